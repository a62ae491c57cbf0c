"""A picture of every kind of email the service sends, for docs/emails/: one command.

    .venv/bin/python -m bench.email_screenshots [--out docs/emails]

Renders each kind ``run.py preview`` knows from the sample community (exactly what the
outbox would store), draws its HTML part in headless Chromium (Debian's ``chromium``) under a
small header with its subject and recipient, trims the empty space below, and writes
``KIND.png`` and a README.md listing them. Run it again after changing a template.
"""
from __future__ import annotations

import argparse
import base64
import email
import email.policy
import html as html_lib
import re
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageChops  # noqa: E402

from bench.digest_screenshot import screenshot  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.preview import kinds  # noqa: E402
from mailer.preview.render import rendered  # noqa: E402
from mailer.preview.world import scratch  # noqa: E402

WIDTH = 680
HEADER = ('<div style="font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:13px;color:#57606a;'
          'background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:10px 16px">'
          '<div style="font-size:16px;color:#1f2328;font-weight:600;margin-bottom:2px">{subject}</div>'
          '<div>From {sender} &middot; To {to}</div></div>')


def page(data: bytes) -> str:
    """The HTML part of a composed email, its cid: images inline and a mail client's header on top."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(("html",)).get_content()
    for part in message.walk():  # a browser cannot follow cid: links: give it the same bytes inline
        if part["Content-ID"]:
            uri = f"data:{part.get_content_type()};base64,{base64.b64encode(part.get_content()).decode()}"
            body = body.replace(f"cid:{part['Content-ID'].strip('<>')}", uri)
    header = HEADER.format(subject=html_lib.escape(str(message["Subject"])),
                           sender=html_lib.escape(str(message["From"])), to=html_lib.escape(str(message["To"])))
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + header, body, count=1)


def trim(png: Path, margin: int = 16) -> None:
    """Cut the blank space under the email (the window is taller than most emails)."""
    image = Image.open(png).convert("RGB")
    blank = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, blank).getbbox()
    if box:
        image.crop((0, 0, image.width, min(image.height, box[3] + margin))).save(png, optimize=True)


def write_all(out: Path) -> list[tuple[kinds.Kind, str]]:
    """Render and photograph every kind into ``out``; (kind, subject) for each."""
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp) / "home")
        world = scratch(None, Path(tmp), None)
        for kind in kinds.KINDS:
            plan, person = kinds.plan(world, kind.name, None, settings)
            shown = rendered(plan, person, world.now, settings)
            target = out / f"{kind.name}.png"
            screenshot(page(shown.data), target, WIDTH, 2400)
            trim(target)
            done.append((kind, shown.subject))
        world.db.close()
    return done


def readme(done: list[tuple[kinds.Kind, str]]) -> str:
    """docs/emails/README.md: each kind with its subject and picture."""
    lines = ["# What members receive", "",
             "Every kind of email cop-mailer sends, rendered from the sample community as the outbox "
             "would send it (HTML part, drawn by headless Chromium). Made by "
             "`.venv/bin/python -m bench.email_screenshots`; `run.py preview KIND` shows the same email "
             "from your own home's data, as text (`--text`), HTML (`--html`) or calendar invite (`--ics`).", ""]
    lines += [f"- [{kind.name}](#{kind.name}): {kind.about}" for kind, _ in done]
    for kind, subject in done:
        lines += ["", f"## {kind.name}", "", f"{kind.about[0].upper()}{kind.about[1:]}. Subject: *{subject}*", "",
                  f"![{kind.name}: {subject}]({kind.name}.png)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write docs/emails/ (or --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "emails")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    done = write_all(args.out)
    (args.out / "README.md").write_text(readme(done), encoding="utf-8")
    print(f"wrote {len(done)} pictures and README.md in {args.out}")


if __name__ == "__main__":
    main()
