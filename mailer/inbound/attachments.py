"""The files in a person's reply: which are theirs to keep, and why the others are left out.

A reply carries more files than its author chose: the logo and social icons of their
signature (Outlook names them ``image001.png`` and references them as ``cid:`` from the HTML),
tracking pixels, images that belong to the quoted history, calendar parts and S/MIME
signatures. ``choose`` keeps what the person attached or put in their own words (Apple Mail and
iPhone photos inline, Outlook and Gmail attachments) within the documented limits, and says
for every other file why it was not kept. Nothing here renders or runs what a file says.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from mailer.locale.text import _
from mailer.outbound import formats

MAX_FILE_BYTES = 10 * 1024 * 1024  # per file
MAX_FILES = 5  # per entry
SMALL_IMAGE_BYTES = 4 * 1024  # a photo is never this small; icons and pixels are
SMALL_IMAGE_PIXELS = 96  # width and height at most this: an icon, a logo or a pixel
LOGO_NAME = re.compile(r"^image\d{3}\.(png|jpe?g|gif)$", re.IGNORECASE)  # Outlook's signature images
LOGO_NAME_BYTES = 40 * 1024
SIGNATURE_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature")
CALENDAR_TYPES = ("text/calendar", "application/ics")
# Kept with their bytes; anything else is kept as a name and a size only.
KEPT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif",
              "application/pdf", "text/plain", "text/markdown", "text/csv",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "application/vnd.openxmlformats-officedocument.presentationml.presentation",
              "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
              "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint")
# Where the quoted history starts in the HTML of common clients (see inbound/html_text.py).
QUOTE_MARKERS = re.compile(r'class="?gmail_quote|id="?divRplyFwdMsg|id="?appendonsend|<blockquote[^>]*type="?cite'
                           r'|class="?moz-cite-prefix|id="?x_divRplyFwdMsg', re.IGNORECASE)


@dataclass(frozen=True)
class InboundFile:
    """One file part of an incoming message, decoded."""

    filename: str
    mime_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def sha256(self) -> str:
        """The content hash that deduplicates it in the store."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class Choice:
    """What ``choose`` decided: files kept (``with_data`` False: name and size only), files left out."""

    kept: tuple[tuple[InboundFile, bool], ...]
    dropped: tuple[tuple[InboundFile, str], ...]

    @property
    def over_limits(self) -> tuple[tuple[InboundFile, str], ...]:
        """The files left out for size or number: the sender is told about these."""
        return tuple(d for d in self.dropped if d[1].startswith("over "))


def choose(files: list[InboundFile], html: str | None) -> Choice:
    """Sort a reply's files into the person's own (within limits) and the rest, with reasons."""
    if not files:
        return Choice((), ())  # most replies: no need to read the HTML for quoted images
    quoted_cids = _cids(_quoted_part(html)) - _cids(_own_part(html))
    kept: list[tuple[InboundFile, bool]] = []
    dropped: list[tuple[InboundFile, str]] = []
    seen: set[str] = set()
    for item in files:
        reason = not_the_persons(item, quoted_cids)
        if reason is None and item.sha256 in seen:
            reason = "the same file twice"
        if reason is None:
            reason = _over_limit(item, len(kept))
        if reason:
            dropped.append((item, reason))
            continue
        seen.add(item.sha256)
        kept.append((item, item.mime_type in KEPT_TYPES))
    return Choice(tuple(kept), tuple(dropped))


def not_the_persons(item: InboundFile, quoted_cids: set[str]) -> str | None:
    """Why this file is not part of what the person wrote, or None when it is."""
    if item.mime_type in CALENDAR_TYPES:
        return "calendar part"
    if item.mime_type in SIGNATURE_TYPES:
        return "S/MIME or PGP signature"
    if item.content_id and item.content_id in quoted_cids:
        return "image in the quoted history"
    if item.mime_type.startswith("image/"):
        return _small_image(item)
    return None


def _small_image(item: InboundFile) -> str | None:
    if item.size < SMALL_IMAGE_BYTES:
        return "small image (a logo, an icon or a tracking pixel)"
    if item.inline and LOGO_NAME.match(item.filename) and item.size < LOGO_NAME_BYTES:
        return "signature image (Outlook's image001-style inline logo)"
    size = image_size(item.data)
    if size and size[0] <= SMALL_IMAGE_PIXELS and size[1] <= SMALL_IMAGE_PIXELS:
        return f"small image ({size[0]}×{size[1]}: a logo or an icon)"
    return None


def _over_limit(item: InboundFile, kept_so_far: int) -> str | None:
    if item.size > MAX_FILE_BYTES:
        return _("over the %(max)s MB limit per file (%(size)s MB)", max=MAX_FILE_BYTES // (1024 * 1024),
                 size=formats.megabytes(item.size))
    if kept_so_far >= MAX_FILES:
        return _("over the limit of %(max)s files per entry", max=MAX_FILES)
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an image, read from its header only; None when it is not one we can read."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # noqa: BLE001 - not an image Pillow knows, or a broken one: judge by size alone
        return None


def _own_part(html: str | None) -> str:
    if not html:
        return ""
    found = QUOTE_MARKERS.search(html)
    return html[:found.start()] if found else html


def _quoted_part(html: str | None) -> str:
    if not html:
        return ""
    found = QUOTE_MARKERS.search(html)
    return html[found.start():] if found else ""


def _cids(html: str) -> set[str]:
    return {m.lower() for m in re.findall(r"cid:([^\"'\s>)]+)", html, re.IGNORECASE)}
