"""Look at a digest as a sponsor would: render one in headless Chromium and save a screenshot.

    .venv/bin/python -m bench.digest_screenshot [--out docs/digest.png] [--html digest.html]

Builds a small simulated challenge (40 participants, 12 days, a few entries marked #share),
renders the sponsor's digest exactly as it would be sent, and asks Debian's ``chromium`` for a
screenshot of the HTML part. Needs ``apt-get install chromium``; says so and stops without it.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.digest import START, build_home  # noqa: E402
from mailer import outbox  # noqa: E402
from mailer.flows import digest  # noqa: E402
from mailer.store import challenges, files  # noqa: E402

HIGHLIGHTS = (
    (3, "Timed a change from commit to production: 3 h 40 min, of which 2 h waiting for a manual approval. #share"),
    (7, "Replaced our flaky integration test with a contract test; the pipeline is green for five days now. #share"),
    (11, "Ran our first blameless review. People spoke up more than in any retro this year. #share"),
)


def render_sample(days: int = 12) -> str:
    """The HTML part of a sponsor's digest after ``days`` days of a 40-person challenge."""
    with tempfile.TemporaryDirectory() as tmp:
        db, settings, sponsor, _ = build_home(Path(tmp), 40, days, seed=3, share_rate=0.0)
        cid = challenges.list_challenges(db)[0]["id"]
        until = START + timedelta(days=days)
        authors = challenges.list_participants(db, cid)[:len(HIGHLIGHTS)]
        for n, ((day, text), author) in enumerate(zip(HIGHLIGHTS, authors)):
            entry = challenges.add_entry(db, cid, author["person_id"], day, text, True, until - timedelta(hours=n + 1), None)
            if n < 2:  # two of them came with a photo of the whiteboard
                board = whiteboard(n)
                files.attach(db, "journal", entry, author["person_id"],
                             [("IMG_0042.jpeg", "image/jpeg", board, hashlib.sha256(board).hexdigest(), len(board))], until)
        plan = digest.build(db, sponsor, until - timedelta(days=7), until, settings, key="screenshot")
        html = outbox.render_plan(plan, sponsor, None, settings)[1]
        for item in plan.attachments:  # a browser cannot resolve cid: links: show the same bytes inline
            html = html.replace(f"cid:{item.content_id}", f"data:{item.mime_type};base64," + base64.b64encode(item.data).decode())
        return html


def whiteboard(seed: int) -> bytes:
    """A made-up photo of a whiteboard sketch (boxes joined by arrows), as a JPEG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), (236, 238, 232))
    draw = ImageDraw.Draw(image)
    for n in range(4 + seed):
        x = 80 + n * 260 % 1000
        y = 200 + (n * 170 + seed * 90) % 450
        draw.rectangle((x, y, x + 180, y + 110), outline=(40, 70, 160), width=8)
        draw.line((x + 180, y + 55, x + 260, y + 55), fill=(200, 50, 40), width=8)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def screenshot(html: str, out: Path, width: int = 680, height: int = 900) -> None:
    """Write a PNG of ``html`` as headless Chromium draws it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "digest.html"
        page.write_text(html, encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={width},{height}", f"--screenshot={out.resolve()}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> None:
    """Render the sample digest and write the screenshot (and the HTML when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/digest.png"))
    parser.add_argument("--html", type=Path, help="also write the HTML part here")
    args = parser.parse_args()
    html = render_sample()
    if args.html:
        args.html.write_text(html, encoding="utf-8")
    screenshot(html, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
