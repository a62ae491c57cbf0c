"""Reading RSVPs from real calendar replies, leniently; broken calendars never raise."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailer.inbound.calendar_reply import read_rsvp
from mailer.inbound.message import parse_message

SAMPLES = Path(__file__).parent / "samples"


@pytest.mark.parametrize("name, method, attendee, partstat, sequence, comment, recurrence_id", [
    # Exchange: no ORGANIZER, Windows TZID, the note in COMMENT (with a trailing escaped newline).
    ("exchange_accept.eml", "REPLY", "bob.brown@corp.example.com", "ACCEPTED", 1, "See you there", None),
    # Google: the whole guest list, a VALARM with its own ATTENDEE, the note in X-RESPONSE-COMMENT.
    ("google_accept.eml", "REPLY", "alice.adams@gmail.com", "ACCEPTED", 0,
     "Looking forward to it, bringing a colleague", None),
    ("apple_decline.eml", "REPLY", "carol@icloud.com", "DECLINED", 1, "", None),
    ("thunderbird_tentative.eml", "REPLY", "dan@posteo.example", "TENTATIVE", 2,
     "Might be late, coming from another site", "2027-02-10T17:00:00Z"),
    ("thunderbird_counter.eml", "COUNTER", "dan@posteo.example", "ACCEPTED", 2,
     "Thursday would suit the Lyon team better", None),
])
def test_real_replies(name, method, attendee, partstat, sequence, comment, recurrence_id):
    msg = parse_message((SAMPLES / name).read_bytes())
    rsvp = read_rsvp(msg.calendar, msg.from_addr)
    assert rsvp is not None
    assert (rsvp.method, rsvp.uid, rsvp.attendee, rsvp.partstat, rsvp.sequence, rsvp.comment,
            rsvp.recurrence_id) == (method, "meetup-12@example.test", attendee, partstat, sequence,
                                    comment, recurrence_id)
    assert rsvp.dtstamp is not None and rsvp.dtstamp.tzinfo is not None


def test_exchange_dtstamp_is_utc():
    msg = parse_message((SAMPLES / "exchange_accept.eml").read_bytes())
    assert read_rsvp(msg.calendar).dtstamp == datetime(2027, 1, 5, 10, 15, tzinfo=timezone.utc)


def test_google_reply_picks_the_sender_among_many_attendees_even_without_a_hint():
    msg = parse_message((SAMPLES / "google_accept.eml").read_bytes())
    assert read_rsvp(msg.calendar).attendee == "alice.adams@gmail.com"  # the one with X-RESPONSE-COMMENT
    assert read_rsvp(msg.calendar, "bob.brown@corp.example.com").attendee == "bob.brown@corp.example.com"


MINIMAL = "BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\n{body}\nEND:VEVENT\nEND:VCALENDAR\n"


@pytest.mark.parametrize("text, attendee, partstat, uid", [
    # No END lines at all: icalendar refuses it, the line reader does not.
    ("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:x1\nATTENDEE;PARTSTAT=ACCEPTED:mailto:A@B.example\n",
     "a@b.example", "ACCEPTED", "x1"),
    # A colon inside a quoted parameter.
    (MINIMAL.format(body='UID:x2\nATTENDEE;CN="Doe: Jane";PARTSTAT=DECLINED:mailto:jane@example.org'),
     "jane@example.org", "DECLINED", "x2"),
    # Broken DTSTAMP and SEQUENCE are ignored, not fatal.
    (MINIMAL.format(body="UID:x3\nDTSTAMP:yesterday\nSEQUENCE:two\nATTENDEE;PARTSTAT=TENTATIVE:MAILTO:t@example.org"),
     "t@example.org", "TENTATIVE", "x3"),
    # No ATTENDEE: kept for a human, never an invented attendee.
    (MINIMAL.format(body="UID:x4"), None, None, "x4"),
    # CRLF line ends and a folded ATTENDEE line.
    (MINIMAL.format(body="UID:x5\nATTENDEE;PARTSTAT=ACC\n EPTED:mailto:f@example.org").replace("\n", "\r\n"),
     "f@example.org", "ACCEPTED", "x5"),
])
def test_lenient_reading(text, attendee, partstat, uid):
    rsvp = read_rsvp(text)
    assert rsvp is not None and (rsvp.attendee, rsvp.partstat, rsvp.uid) == (attendee, partstat, uid)


def test_broken_values_fall_back_to_defaults():
    rsvp = read_rsvp(MINIMAL.format(body="UID:x3\nDTSTAMP:yesterday\nSEQUENCE:two"))
    assert rsvp.dtstamp is None and rsvp.sequence == 0


@pytest.mark.parametrize("text", ["", "garbage", "BEGIN:VCALENDAR\nEND:VCALENDAR", "\x00\x01", "BEGIN:VTODO\nEND:VTODO",
                                  ":::\n;;;\nBEGIN:\nEND:"])
def test_no_event_gives_none(text):
    assert read_rsvp(text) is None


def test_delegation_and_sent_by_are_read():
    rsvp = read_rsvp(MINIMAL.format(
        body='UID:d\nATTENDEE;PARTSTAT=ACCEPTED;SENT-BY="mailto:PA@corp.example.com";'
             'DELEGATED-FROM="mailto:boss@corp.example.com":mailto:deputy@corp.example.com'))
    assert (rsvp.attendee, rsvp.sent_by, rsvp.delegated_from) == (
        "deputy@corp.example.com", "pa@corp.example.com", "boss@corp.example.com")


def test_one_calendar_part_is_parsed_once_however_often_it_is_read(monkeypatch):
    # routing, the reading of the intent and the meetup flow each read the same answer
    import icalendar

    from mailer.inbound import calendar_reply

    calls = []
    real = icalendar.Calendar.from_ical
    monkeypatch.setattr(calendar_reply.icalendar.Calendar, "from_ical",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    read_rsvp.cache_clear()
    msg = parse_message((SAMPLES / "google_accept.eml").read_bytes())
    first = [read_rsvp(msg.calendar, msg.from_addr) for _ in range(3)]
    assert len(calls) == 1 and first[0] == first[2] and first[0].attendee == "alice.adams@gmail.com"
    # the same part read for another sender is read for that sender (Google copies every guest)
    other = read_rsvp(msg.calendar, "nobody@example.test")
    assert len(calls) == 2 and other is not first[0]
