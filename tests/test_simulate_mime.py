"""The simulated members' mail: written fast, byte for byte what the stdlib writes; invitations
read once per version of the event; their mail on its way kept on disk, in order."""
from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from icalendar.parser import Contentline

from mailer.inbound.message import parse_message
from mailer.outbound import invite
from mailer.outbound.invite import fold
from mailer.simulation import calendar_client, mime, reading, replies, writing
from mailer.simulation.community import make_community
from mailer.simulation.mime import POLICY, flatten
from mailer.simulation.spool import Spool, deliver
from mailer.store import outbox as outbox_store
from mailer.transports.maildir import MaildirTransport
from tests.flows.meetup.test_rsvp import invited  # noqa: F401
from tests.test_simulate import _invitation_email

NOW = datetime(2027, 1, 4, 9, 30, tzinfo=timezone.utc)
NAMES = ("Ana Novak", "Chloé Dubois", "Seán O'Brien", "山田 太郎", "Ana \"the lead\" Novak, PhD")


def _ours(subject: str, text: str, name: str = "CoP", references: str = "") -> bytes:
    """One of our emails as a member's client reads it: plain text and HTML, a reply address."""
    msg = MIMEMultipart("alternative")
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(f"<p>{text}</p>", "html", "utf-8"))
    msg["From"] = f"{name} <cop@sim.example.com>"
    msg["Reply-To"] = "cop+t0k3n@sim.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<ours-1@sim.example.com>"
    if references:
        msg["References"] = references
    return msg.as_bytes()


def _same(msg) -> None:
    fast = flatten(msg)  # makes the boundary, which the stdlib then keeps
    assert fast == msg.as_bytes(policy=POLICY)


ORIGINALS = [
    _ours("Day 3: map your pipeline", "Map your pipeline.\n\nReply to this email."),
    _ours("Tag 3: Ihre Pipeline — ein sehr langer Betreff, der über die Zeilenlänge hinaus geht, sicher",
          "Zeichnen Sie Ihre Pipeline.\n" * 40),
    _ours("3日目: パイプラインを図にする", "パイプラインを図にしてください。", name="実践コミュニティ",
          references=" ".join(f"<ref-{n}@sim.example.com>" for n in range(8))),
]


@pytest.mark.parametrize("client", replies.CLIENTS + replies.OTHER_CLIENTS)
def test_a_reply_is_written_as_the_stdlib_writes_it(client, monkeypatch):
    # the same Message-ID and boundaries on both sides: compose_reply writes without a message
    monkeypatch.setattr(replies, "new_message_id", lambda domain: f"<1@{domain}>")
    monkeypatch.setattr(mime.random, "randrange", lambda _: 42)
    for original in ORIGINALS:
        for name in NAMES:
            for text in ("Done.", "Mapped our pipeline today.\n\nBest regards,\n" + name, "短いです。\n\n-- \n" + name):
                args = (original, "member00001@sim.example.com", name, text, client, NOW)
                _same(replies.reply_message(*args))
                assert replies.compose_reply(*args) == replies.reply_message(*args).as_bytes(policy=POLICY)


def test_automatic_replies_are_written_as_the_stdlib_writes_them():
    for member in make_community(60, 5, 2):
        for original in ORIGINALS:
            _same(writing.out_of_office_message(original, member, NOW))


def _invitation(attendee: str, language: str = "en", sequence: int = 1, title: str = "Report-back") -> bytes:
    event = invite.EventInfo("meetup-7@cop-mailer", sequence, title, datetime(2027, 1, 6, 16, tzinfo=timezone.utc),
                             45, "Online")
    ics = invite.request(event, invite.Party("cop@sim.example.com", "CoP"), invite.Party(attendee, "Ana"),
                         NOW - timedelta(hours=random.randint(1, 50)), language)
    return _invitation_email(ics)


def test_calendar_answers_are_written_as_the_stdlib_writes_them(monkeypatch):
    monkeypatch.setattr(calendar_client, "new_message_id", lambda domain: f"<1@{domain}>")
    invitation = calendar_client.read_invitation(_invitation("ana@sim.example.com"))
    for client in ("outlook", "gmail", "apple"):
        for partstat in calendar_client.WORDS:
            for name in NAMES:
                for note, sent_by in (("", None), ("Depends on my release; sorry — ça dépend", "pa@sim.example.com")):
                    args = (invitation, client, "ana@sim.example.com", name, partstat, note, NOW, sent_by)
                    _same(calendar_client.reply_message(*args))
                    monkeypatch.setattr(mime.random, "randrange", lambda _, n=itertools.count(42): next(n))
                    ours = calendar_client.reply(*args)  # the inner boundary drawn first, as the stdlib does
                    monkeypatch.setattr(mime.random, "randrange", lambda _, n=itertools.count(42): next(n))
                    assert ours == calendar_client.reply_message(*args).as_bytes(policy=POLICY)


@pytest.mark.parametrize("subtype", ["plain", "html", "calendar"])
def test_a_text_part_is_what_the_stdlib_makes(subtype):
    for text in ("", "Done.", "Grüße aus Köln\n", "短いです。\r\n" * 30, "a\rb\n\nc" + "x" * 200):
        assert flatten(mime.text_part(text, subtype)) == MIMEText(text, subtype, "utf-8").as_bytes(policy=POLICY)


def test_a_message_of_another_shape_is_left_to_the_stdlib():
    forwarded = MIMEMultipart("mixed")
    forwarded.attach(MIMEText("See below.", "plain", "us-ascii"))
    forwarded.attach(MIMEMessage(message_from_bytes(ORIGINALS[0])))
    with_preamble = MIMEMultipart("mixed")
    with_preamble.preamble = "This is a multi-part message in MIME format."
    with_preamble.attach(MIMEText("hello", "plain", "utf-8"))
    for msg in (forwarded, with_preamble):
        assert flatten(msg) == msg.as_bytes(policy=POLICY)


def test_a_boundary_is_never_a_line_of_the_parts(monkeypatch):
    # the same random boundary twice: the second is found in the first part's text, and changed
    first = "=" * 15 + "0" * 19 + "=="
    monkeypatch.setattr(mime.random, "randrange", lambda _: 0)
    inner = MIMEMultipart("mixed")
    inner.attach(MIMEText("a", "plain", "us-ascii"))
    outer = MIMEMultipart("mixed")
    outer.attach(inner)
    outer.attach(MIMEText("b", "plain", "us-ascii"))
    flatten(outer)
    assert inner.get_boundary() == first and outer.get_boundary() == first + ".0"
    assert flatten(outer) == outer.as_bytes(policy=POLICY)


def test_an_invitation_is_read_the_same_for_every_invitee_and_again_for_a_new_version(monkeypatch):
    parsed = []
    parse = calendar_client._parse
    monkeypatch.setattr(calendar_client, "_parse", lambda ics: parsed.append(ics) or parse(ics))
    calendar_client._versions.clear()
    firsts = [calendar_client.read_invitation(_invitation(f"m{n}@sim.example.com", lang))
              for n, lang in enumerate(("en", "de", "fr", "ja") * 5)]
    assert len(parsed) == 1 and all(inv == firsts[0] for inv in firsts)
    assert (firsts[0].uid, firsts[0].sequence, firsts[0].title) == ("meetup-7@cop-mailer", 1, "Report-back")
    moved = calendar_client.read_invitation(_invitation("m1@sim.example.com", sequence=2, title="Report-back, moved"))
    assert len(parsed) == 2 and (moved.sequence, moved.title) == (2, "Report-back, moved")
    assert calendar_client.read_invitation(ORIGINALS[0]) is None


def test_mail_on_its_way_waits_on_disk_and_arrives_in_order(tmp_path: Path):
    spool = Spool(tmp_path / "spool")
    start = NOW.replace(minute=0)
    for n, minutes in enumerate((30, 10, 30, 5, 70)):
        spool.put(start + timedelta(minutes=minutes), f"mail {n}".encode())
    assert len(spool) == 5 and len(list((tmp_path / "spool").iterdir())) == 2  # a file per hour of arrival
    assert list(spool.due(start + timedelta(minutes=9))) == [b"mail 3"]
    assert list(spool.due(start + timedelta(minutes=30))) == [b"mail 1", b"mail 0", b"mail 2"]  # ties: as written
    assert len(spool) == 1 and len(list((tmp_path / "spool").iterdir())) == 1  # the first hour's file is gone
    spool.put(start + timedelta(minutes=75), b"mail 5")
    assert list(spool.due(start + timedelta(hours=2))) == [b"mail 4", b"mail 5"]
    assert not list((tmp_path / "spool").iterdir())
    spool.put(start, b"never arrives")
    spool.discard()
    assert not (tmp_path / "spool").exists() and len(spool) == 0


def test_mail_arrives_in_the_inbox_as_a_mail_server_puts_it_there_in_order(tmp_path: Path):
    raws = [f"Subject: {n}\r\n\r\nmail {n}\r\n".encode() for n in range(5)]
    assert deliver(tmp_path / "inbox", iter(raws)) == 5
    assert not list((tmp_path / "inbox" / "tmp").iterdir())
    assert all((path.stat().st_mode & 0o777) == 0o600 for path in (tmp_path / "inbox" / "new").iterdir())
    assert [fetched.raw for fetched in MaildirTransport(tmp_path).fetch()] == raws


def _awkward(rng: random.Random, longest: int) -> str:
    """Text with what iCalendar escapes, quotes or folds: separators, quotes, escapes, UTF-8."""
    return "".join(rng.choice("abcAZ ,;:\"'\\^é山—\t") for _ in range(rng.randint(0, longest)))


def test_an_answers_calendar_is_byte_for_byte_what_icalendar_writes_whole():
    # made once per version, client, PARTSTAT and note or none, with the person's own lines put in
    rng = random.Random(5)
    for n in range(1500):
        title = rng.choice(("Report-back", "Chloé's; talk, \\ long " * rng.randint(1, 4)))
        inv = calendar_client.Invitation(f"meetup-{rng.randint(1, 3)}@cop-mailer", rng.randint(0, 3), title,
                                         datetime(2027, 1, 6, 16, tzinfo=timezone.utc),
                                         datetime(2027, 1, 6, 17, tzinfo=timezone.utc), "cop@sim.example.com",
                                         rng.choice(("Online", "Room 4, Floor; 2")))
        args = (inv, rng.choice(("outlook", "gmail", "apple")), f"m{n}@sim.example.com", _awkward(rng, 40),
                rng.choice(tuple(calendar_client.WORDS)), rng.choice(("", _awkward(rng, 120))),
                NOW + timedelta(seconds=rng.randint(0, 10**6)), rng.choice((None, "pa@sim.example.com")))
        assert calendar_client._ics(*args) == calendar_client._built(*args), args


def test_a_line_is_folded_as_icalendar_folds_it():
    rng = random.Random(6)
    for _ in range(5000):
        line = "X-" + _awkward(rng, 300)
        assert fold(line) == Contentline(line).to_ical(), line


def _calendar_mails() -> list[bytes]:
    """Mail with a calendar part in every shape the tests know, and some without one."""
    inv = calendar_client.read_invitation(_invitation("ana@sim.example.com"))
    answers = [calendar_client.reply(inv, client, "ana@sim.example.com", name, "ACCEPTED", note, NOW, sent_by)
               for client in ("outlook", "gmail", "apple") for name in NAMES[:2]
               for note, sent_by in (("", None), ("See you", "pa@sim.example.com"))]
    forwarded = MIMEMultipart("mixed")  # an invitation inside an attached message supplies no calendar
    forwarded.attach(MIMEText("See below.", "plain", "us-ascii"))
    forwarded.attach(MIMEMessage(message_from_bytes(answers[0])))
    samples = sorted((Path(__file__).parent / "inbound" / "samples").glob("*.eml"))
    return [*(_invitation(f"m{n}@sim.example.com", lang) for n, lang in enumerate(("en", "de", "ja"))), *answers,
            forwarded.as_bytes(), *ORIGINALS, *(path.read_bytes() for path in samples)]


def test_a_calendar_part_is_read_alone_as_the_whole_message_parse_reads_it():
    mails = _calendar_mails()
    assert sum(parse_message(raw).calendar is not None for raw in mails) >= 20
    for raw in mails:
        assert reading.calendar_text(raw) == parse_message(raw).calendar


def test_a_long_ascii_header_is_folded_as_the_stdlib_folds_it():
    # folds are reused between values that differ only in their digits (boundaries, times, numbers)
    rng = random.Random(7)
    for _ in range(4000):
        value = "".join(rng.choice(("a", "Z", "7", "0", "=", "\"", ";", ",", " ", "; ", "  ", "\t", "x" * 30, "1" * 40))
                        for _ in range(rng.randint(1, 40)))
        name = rng.choice(("Content-Type", "Subject", "X-Long-Header-Name-For-Folding", "To"))
        assert mime._header(name, value) == POLICY.fold_binary(name, value).decode("ascii"), (name, value)


def test_our_own_emails_calendar_is_read_as_the_whole_message_parse_reads_it(db, settings, invited):
    raws = [outbox_store.get_row(db, row["id"])["data"] for row in outbox_store.list_rows(db, limit=100)]
    assert sum(parse_message(raw).calendar is not None for raw in raws) >= 8  # invitations, moved
    for raw in raws:
        assert reading.calendar_text(raw) == parse_message(raw).calendar
