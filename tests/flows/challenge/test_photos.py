"""Photos and files in journal entries, through the real inbox, as each mail client sends them.

Apple Mail (photo inline in multipart/related), an iPhone (photo between text parts), Outlook
(attached photo plus the image001.png logo of its signature in cid:), Gmail (inline and attached,
and an image that belongs to the quoted history), with a tracking pixel: the right files are
kept, the rest are not, and the export gives the photos back byte for byte.
"""
from __future__ import annotations

import base64
import email
import email.policy
import io
import json
import os
import random
from datetime import datetime, timedelta, timezone
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from mailer import worker
from mailer.cli import main
from mailer.flows.challenge.definition import start_challenge
from mailer.outbound.thumbnail import thumbnail
from mailer.store import challenges, files, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.challenge.conftest import BEFORE, CREW, challenge_toml

UTC = timezone.utc
DAY2 = datetime(2027, 1, 5, 23, 30, tzinfo=UTC)  # day 2 has reached everyone by now


def photo(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    """A JPEG of noise: as large as a real photo, and unique to ``seed``."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def logo() -> bytes:
    """Outlook's signature logo: a small PNG of some 20 KB."""
    rng = random.Random(99)
    image = Image.frombytes("RGB", (150, 50), bytes(rng.getrandbits(8) for _ in range(150 * 50 * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


class Home:
    """The crew's challenge on the real worker and Maildir."""

    def __init__(self, db, settings, tmp_path: Path, length: int = 30) -> None:
        self.db, self.settings = db, settings
        for address, name, tz in CREW:
            people.add_person(db, address, name, tz, ("member",))
        path = tmp_path / "c.toml"
        path.write_text(challenge_toml(length=length))
        self.cid = start_challenge(db, path, BEFORE).challenge_id
        people.add_person(db, "sponsor@corp.example.com", "Dana Sponsor", "America/Chicago", ("sponsor",))
        self.transport = make_transport(settings)
        self.tick(BEFORE)  # the sponsor becomes a digest recipient from the start

    def tick(self, now: datetime) -> worker.TickResult:
        return worker.tick(self.db, self.transport, now, self.settings, "test")

    def walk_to_day_two(self) -> None:
        """Tick every two hours until day 2 has gone out in every zone (Tokyo first, New York last)."""
        moment = datetime(2027, 1, 4, 20, tzinfo=UTC)
        while moment <= DAY2:
            self.tick(moment)
            moment += timedelta(hours=2)

    def sent(self) -> list[email.message.EmailMessage]:
        folder = self.settings.mail_dir / "outbox" / "new"
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.iterdir())]

    def day_email(self, address: str, day: int) -> email.message.EmailMessage:
        return next(m for m in self.sent() if m["To"].addresses[0].addr_spec == address
                    and m["Subject"].startswith(f"Day {day} of"))

    def reply(self, original, body: MIMEMultipart, now: datetime) -> None:
        person = people.find_person(self.db, original["To"].addresses[0].addr_spec)
        body["From"] = f"{person['name']} <{person['email']}>"
        body["To"] = str(original["Reply-To"])
        body["Subject"] = "Re: " + str(original["Subject"])
        body["Date"] = format_datetime(now)
        body["Message-ID"] = make_msgid(domain="corp.example.com")
        body["In-Reply-To"] = body["References"] = str(original["Message-ID"])
        deliver_to_inbox(self.settings.mail_dir, body.as_bytes())

    def kept(self, address: str) -> list[dict]:
        person = people.find_person(self.db, address)
        ids = [e["id"] for e in challenges.entries(self.db, person["id"], self.cid)]
        return [f for found in files.files_of(self.db, "journal", ids, with_data=True).values() for f in found]


def _image(data: bytes, subtype: str, name: str, cid: str | None = None, inline: bool = True) -> MIMEImage:
    part = MIMEImage(data, subtype)
    part.add_header("Content-Disposition", "inline" if inline else "attachment", filename=name)
    if cid:
        part.add_header("Content-ID", f"<{cid}>")
    return part


def apple_mail(text: str, pic: bytes) -> MIMEMultipart:
    html = MIMEMultipart("related")
    html.attach(MIMEText(f"<html><body><div>{text}</div><div><img src=\"cid:8F2A-photo\"></div>"
                         "<blockquote type=\"cite\"><div>On 5 Jan, Community wrote:</div></blockquote></body></html>", "html"))
    html.attach(_image(pic, "jpeg", "IMG_0042.jpeg", cid="8F2A-photo"))
    top = MIMEMultipart("alternative")
    top.attach(MIMEText(f"{text}\n\nOn 5 Jan 2027, at 08:00, Community wrote:\n\n> Day 2\n", "plain"))
    top.attach(html)
    return top


def iphone(text: str, pic: bytes) -> MIMEMultipart:
    top = MIMEMultipart("mixed")
    top.attach(MIMEText(f"{text}\n", "plain"))
    top.attach(_image(pic, "jpeg", "IMG_0107.JPG"))
    top.attach(MIMEText("\n\nSent from my iPhone\n\n> On 5 Jan 2027, Community wrote:\n> Day 2\n", "plain"))
    return top


def outlook(text: str, pic: bytes) -> MIMEMultipart:
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(f"{text}\n\nBest regards,\nOliver\n\n________________________________\nFrom: Community\n", "plain"))
    alt.attach(MIMEText(f"<html><body><p>{text}</p><p>Best regards,<br>Oliver<br><img src=\"cid:image001.png@01DB5F2A.1C9E4B30\"></p>"
                        "<div id=\"divRplyFwdMsg\">From: Community</div></body></html>", "html"))
    related = MIMEMultipart("related")
    related.attach(alt)
    related.attach(_image(logo(), "png", "image001.png", cid="image001.png@01DB5F2A.1C9E4B30"))
    top = MIMEMultipart("mixed")
    top.attach(related)
    top.attach(_image(pic, "jpeg", "whiteboard.jpg", inline=False))
    return top


def gmail(text: str, pic: bytes, second: bytes) -> MIMEMultipart:
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(f"{text}\n\nOn Tue, 5 Jan 2027 at 08:00, Community wrote:\n> Day 2\n", "plain"))
    alt.attach(MIMEText(f"<div dir=\"ltr\">{text}<div><img src=\"cid:ii_lq1x2y3z0\"></div>"
                        "<img src=\"cid:pixel01\" width=\"1\" height=\"1\"></div><div class=\"gmail_quote\">"
                        "<img src=\"cid:quoted-banner\"></div>", "html"))
    related = MIMEMultipart("related")
    related.attach(alt)
    related.attach(_image(pic, "jpeg", "image.png", cid="ii_lq1x2y3z0"))
    related.attach(_image(PIXEL, "gif", "pixel.gif", cid="pixel01"))
    related.attach(_image(photo(77), "jpeg", "banner.jpg", cid="quoted-banner"))
    top = MIMEMultipart("mixed")
    top.attach(related)
    top.attach(_image(second, "jpeg", "photo2.jpg", inline=False))
    return top


@pytest.fixture
def crew_home(db, settings, tmp_path) -> Home:
    home = Home(db, settings, tmp_path)
    home.walk_to_day_two()
    return home


def test_each_client_style_keeps_the_persons_photos_and_nothing_else(crew_home):
    pics = {n: photo(n) for n in range(1, 6)}
    styles = {"aiko@corp.example.com": apple_mail("Our pipeline on the whiteboard.", pics[1]),
              "priya@corp.example.com": iphone("Sketched the on-call rotation.", pics[2]),
              "oliver@corp.example.com": outlook("Photo of today's map attached.", pics[3]),
              "sam@corp.example.com": gmail("Two pictures from the session.", pics[4], pics[5])}
    for address, body in styles.items():
        crew_home.reply(crew_home.day_email(address, 2), body, DAY2 + timedelta(minutes=5))
    result = crew_home.tick(DAY2 + timedelta(minutes=10))
    assert result.processed == 4 and result.quarantined == 0
    kept = {address: [(f["filename"], f["data"]) for f in crew_home.kept(address)] for address in styles}
    assert kept == {"aiko@corp.example.com": [("IMG_0042.jpeg", pics[1])],
                    "priya@corp.example.com": [("IMG_0107.JPG", pics[2])],
                    "oliver@corp.example.com": [("whiteboard.jpg", pics[3])],
                    "sam@corp.example.com": [("image.png", pics[4]), ("photo2.jpg", pics[5])]}
    entry = challenges.entries(crew_home.db, people.find_person(crew_home.db, "priya@corp.example.com")["id"])[0]
    assert entry["text"] == "Sketched the on-call rotation."


def test_export_gives_the_photos_back_byte_for_byte(crew_home, home, tmp_path):
    pic = photo(11)
    crew_home.reply(crew_home.day_email("sam@corp.example.com", 2), gmail("Board.", pic, photo(12)),
                    DAY2 + timedelta(minutes=5))
    crew_home.tick(DAY2 + timedelta(minutes=10))
    runner, out = CliRunner(), tmp_path / "export"
    base = ["--home", str(home), "journal", "export", "sam@corp.example.com"]
    assert runner.invoke(main, [*base, "--out", str(out)]).exit_code == 0
    markdown = (out / "journal.md").read_text()
    link = next(line for line in markdown.splitlines() if line.startswith("![image.png]"))
    assert (out / link[link.index("(") + 1:-1]).read_bytes() == pic
    page = runner.invoke(main, [*base, "--format", "html"]).output
    assert f"data:image/jpeg;base64,{base64.b64encode(pic).decode()}" in page
    listed = json.loads(runner.invoke(main, [*base, "--format", "json"]).output)
    assert [f["filename"] for f in listed[0]["entries"][0]["files"]] == ["image.png", "photo2.jpg"]


def test_too_big_and_too_many_files_are_not_kept_and_said_once(crew_home):
    body = iphone("Six photos and the slides.", photo(21))
    for n in range(22, 27):
        body.attach(_image(photo(n), "jpeg", f"IMG_{n}.JPG", inline=False))
    slides = MIMEApplication(os.urandom(25 * 1024 * 1024), "pdf")
    slides.add_header("Content-Disposition", "attachment", filename="slides.pdf")
    body.attach(slides)
    crew_home.reply(crew_home.day_email("priya@corp.example.com", 2), body, DAY2 + timedelta(minutes=5))
    crew_home.tick(DAY2 + timedelta(minutes=10))
    crew_home.tick(DAY2 + timedelta(minutes=20))
    assert [f["filename"] for f in crew_home.kept("priya@corp.example.com")] == [
        "IMG_0107.JPG", "IMG_22.JPG", "IMG_23.JPG", "IMG_24.JPG", "IMG_25.JPG"]
    answers = [m for m in crew_home.sent() if m["To"].addresses[0].addr_spec == "priya@corp.example.com"
               and "not kept" in m.get_body(("plain",)).get_content()]
    assert len(answers) == 1
    text = answers[0].get_body(("plain",)).get_content()
    assert "IMG_26.JPG" in text and "slides.pdf (25.0 MB): over the 10 MB limit" in text
    person = people.find_person(crew_home.db, "priya@corp.example.com")
    assert challenges.entries(crew_home.db, person["id"])[0]["text"] == "Six photos and the slides."


def test_a_private_photo_never_reaches_anyone_else(db, settings, tmp_path):
    home = Home(db, settings, tmp_path, length=3)
    home.walk_to_day_two()
    secret = photo(4242)
    home.reply(home.day_email("oliver@corp.example.com", 2), outlook("Not for sharing.", secret),
               DAY2 + timedelta(minutes=5))
    moment = DAY2 + timedelta(minutes=10)
    while moment < datetime(2027, 1, 20, tzinfo=UTC):  # past the end: summaries and digests go out
        home.tick(moment)
        moment += timedelta(hours=6)
    assert holders_of(home, secret) == {"oliver@corp.example.com"}  # his summary carries his journal page
    assert any("digest" in m["Subject"] for m in home.sent())  # digests went out, without it


def holders_of(home: Home, image: bytes) -> set[str]:
    """Who received ``image``: whole, base64 in a page, or as our thumbnail of it."""
    needles = (image, base64.b64encode(image[:600])[:400], thumbnail(image))
    holders = set()
    for msg in home.sent():
        for part in msg.walk():
            payload = b"" if part.is_multipart() else (part.get_payload(decode=True) or b"")
            if any(needle in payload for needle in needles):
                holders.add(msg["To"].addresses[0].addr_spec)
    return holders


def test_a_shared_photo_reaches_the_sponsor_as_a_small_inline_thumbnail(db, settings, tmp_path):
    home = Home(db, settings, tmp_path, length=3)
    home.walk_to_day_two()
    shared, private = photo(5151, (1600, 1200)), photo(5252)
    home.reply(home.day_email("aiko@corp.example.com", 2), apple_mail("Our board. #share", shared),
               DAY2 + timedelta(minutes=5))
    home.reply(home.day_email("sam@corp.example.com", 2), iphone("Just for me.", private), DAY2 + timedelta(minutes=5))
    moment = DAY2 + timedelta(minutes=10)
    while moment < datetime(2027, 1, 12, tzinfo=UTC):
        home.tick(moment)
        moment += timedelta(hours=6)
    digest = [m for m in home.sent() if m["To"].addresses[0].addr_spec == "sponsor@corp.example.com"
              and "digest" in m["Subject"]][-1]  # the one covering 4-11 January
    images = [p for p in digest.walk() if p.get_content_type() == "image/jpeg"]
    assert len(images) == 1 and images[0].get_payload(decode=True) == thumbnail(shared)
    assert f'src="cid:{images[0]["Content-ID"].strip("<>")}"' in digest.get_body(("html",)).get_content()
    assert max(Image.open(io.BytesIO(images[0].get_payload(decode=True))).size) == 240
    assert holders_of(home, private) == {"sam@corp.example.com"}
    assert holders_of(home, shared) == {"aiko@corp.example.com", "sponsor@corp.example.com"}
