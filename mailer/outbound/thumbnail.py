"""Small JPEG copies of photos for emails (a sponsor digest's shared highlights).

Made with Pillow: at most 240 pixels on the long side, turned upright as the camera said,
and written without EXIF, so a photo's location and camera never travel with the thumbnail.
"""
from __future__ import annotations

import io

LONG_SIDE = 240


def thumbnail(data: bytes, long_side: int = LONG_SIDE) -> bytes | None:
    """A JPEG thumbnail of an image, or None when it is not an image Pillow can read."""
    try:
        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(data)) as image:
            small = ImageOps.exif_transpose(image).convert("RGB")
            small.thumbnail((long_side, long_side))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=75, optimize=True)
            return out.getvalue()
    except Exception:  # noqa: BLE001 - a broken or unknown image: no thumbnail, nothing else lost
        return None
