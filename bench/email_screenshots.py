"""A picture of every kind of email the service sends, for docs/emails/: one command.

    .venv/bin/python -m bench.email_screenshots [--out docs/emails]
    .venv/bin/python -m bench.email_screenshots --language de --kind day   # docs/emails/day.de.png

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
from mailer.locale import LANGUAGES  # noqa: E402
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


def write_all(out: Path, names: list[str] | None = None, language: str | None = None) -> list[tuple[kinds.Kind, str]]:
    """Render and photograph every kind (or those ``names``) into ``out``, in the recipient's
    language or ``language`` (then as ``KIND.LANG.png``); (kind, subject) for each."""
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp) / "home")
        world = scratch(None, Path(tmp), None)
        if language:  # everyone reads it, so what a flow builds while planning (a chart) is in it too
            world.db.execute("UPDATE people SET language = ?", [language])
        for kind in (k for k in kinds.KINDS if not names or k.name in names):
            plan, person = kinds.plan(world, kind.name, None, settings)
            person = {**person, "language": language} if language else person
            shown = rendered(plan, person, world.now, settings)
            target = out / (f"{kind.name}.{language}.png" if language else f"{kind.name}.png")
            screenshot(page(shown.data), target, WIDTH, 2400)
            trim(target)
            done.append((kind, shown.subject))
        world.db.close()
    return done


def other_languages(out: Path) -> list[str]:
    """README lines for the pictures of emails in other languages (``KIND.LANG.png``)."""
    lines = ["", "## In other languages", "",
             "Each person reads their emails in their language ([languages](../languages.md)). Made by "
             "`.venv/bin/python -m bench.email_screenshots --language LANG --kind KIND`."]
    for png in sorted(out.glob("*.*.png")):
        kind, language = png.stem.rsplit(".", 1)
        lines += ["", f"### {kind} ({language})", "", f"![{kind} in {language}]({png.name})"]
    return lines


def readme(done: list[tuple[kinds.Kind, str]], out: Path) -> str:
    """docs/emails/README.md: each kind with its subject and picture."""
    lines = ["# What members receive", "",
             "Every kind of email cop-mailer sends, rendered from the sample community as the outbox "
             "would send it (HTML part, drawn by headless Chromium). Made by "
             "`.venv/bin/python -m bench.email_screenshots`; `run.py preview KIND` shows the same email "
             "from your own home's data, as text (`--text`), HTML (`--html`) or calendar invite (`--ics`).", ""]
    lines += [f"- [{kind.name}](#{kind.name}): {kind.about}" for kind, _ in done]
    lines += ["- [In other languages](#in-other-languages)"]
    for kind, subject in done:
        lines += ["", f"## {kind.name}", "", f"{kind.about[0].upper()}{kind.about[1:]}. Subject: *{subject}*", "",
                  f"![{kind.name}: {subject}]({kind.name}.png)"]
    return "\n".join(lines + other_languages(out)) + "\n"


def main() -> None:
    """Write docs/emails/ (or --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "emails")
    parser.add_argument("--language", choices=LANGUAGES, help="only in this language, as KIND.LANG.png")
    parser.add_argument("--kind", action="append", help="only this kind (repeatable)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    done = write_all(args.out, args.kind, args.language)
    if args.language or args.kind:  # a few pictures: the README keeps its kinds, lists the languages anew
        text = (args.out / "README.md").read_text(encoding="utf-8").split("\n## In other languages")[0].rstrip("\n")
        (args.out / "README.md").write_text("\n".join([text, *other_languages(args.out)]) + "\n", encoding="utf-8")
    else:
        (args.out / "README.md").write_text(readme(done, args.out), encoding="utf-8")
    print(f"wrote {len(done)} pictures and README.md in {args.out}")


if __name__ == "__main__":
    main()
