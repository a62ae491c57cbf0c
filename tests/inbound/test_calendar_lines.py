"""A calendar answer read from its needed lines gives what the whole icalendar parse gave.

Every calendar client's answer we have (the real samples, the simulation's Outlook, Google and
Apple answers, the meetup tests' Exchange answer, the lenient-reading texts) and thousands of
mutations of them (lines dropped, doubled, refolded, renamed, parameters and components added,
values broken) are read both ways: ``read_rsvp``'s readers and the old ones (icalendar's
``Calendar.from_ical`` on the whole text, then the line reader).
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailer.inbound import calendar_reply
from mailer.inbound.calendar_lines import plain_event
from mailer.inbound.message import parse_message
from mailer.simulation import calendar_client
from tests.flows.meetup.conftest import exchange_reply
from tests.inbound.test_calendar_reply import MINIMAL

SAMPLES = Path(__file__).parent / "samples"
OLD = (calendar_reply._read_icalendar, calendar_reply._read_lines)
NEW = (calendar_reply._read_calendar, calendar_reply._read_lines)
SENDERS = (None, "ana@sim.example.com", "alice.adams@gmail.com", "bob.brown@corp.example.com")
NOW = datetime(2027, 1, 3, 9, 30, tzinfo=timezone.utc)
EVENT = calendar_client.Invitation("meetup-7-kq3x@sim.example.com", 2, "Report-back: what we found",
                                   datetime(2027, 1, 10, 17, tzinfo=timezone.utc),
                                   datetime(2027, 1, 10, 18, tzinfo=timezone.utc), "cop@sim.example.com",
                                   "Room 4, Lyon; 2nd floor")


def simulated() -> list[str]:
    """The simulation's answers from each client: notes with escapes, a non-ASCII name, SENT-BY."""
    texts = []
    for client in ("outlook", "gmail", "apple"):
        for partstat, note, sent_by in (("ACCEPTED", "", None), ("DECLINED", "Sorry; away, back on\nMonday", None),
                                        ("TENTATIVE", 'Maybe \\ "late"', "assistant@sim.example.com")):
            raw = calendar_client.reply(EVENT, client, "ana@sim.example.com", "Ana Novák, PhD", partstat, note,
                                        NOW, sent_by)
            texts.append(parse_message(raw).calendar)
    return texts


def answers() -> list[str]:
    """Every calendar answer of the tests, as its calendar part's text."""
    texts = [parse_message(path.read_bytes()).calendar for path in sorted(SAMPLES.glob("*.eml"))]
    texts = [t for t in texts if t]
    texts += simulated()
    texts.append(parse_message(exchange_reply("ana@sim.example.com", "cop@sim.example.com",
                                              "meetup-3@sim.example.com", "DECLINED")).calendar)
    texts += [MINIMAL.format(body="UID:x2\nATTENDEE;CN=\"Doe: Jane\";PARTSTAT=DECLINED:mailto:jane@example.org"),
              MINIMAL.format(body="UID:x3\nDTSTAMP:yesterday\nSEQUENCE:two\nATTENDEE;PARTSTAT=TENTATIVE:MAILTO:t@e.org"),
              MINIMAL.format(body="UID:x4")]
    return texts


def same_reading(text: str, senders: tuple[str | None, ...] = SENDERS) -> None:
    for sender in senders:
        assert calendar_reply.read_with(NEW, text, sender) == calendar_reply.read_with(OLD, text, sender), text


@pytest.mark.parametrize("text", answers())
def test_every_answer_reads_as_the_whole_parse_read_it(text):
    same_reading(text)


def test_the_simulated_clients_answers_take_the_short_reading():
    # Otherwise the comparison above would only compare the whole parse with itself.
    assert all(plain_event(text) is not None for text in simulated())
    rsvp = calendar_reply.read_rsvp(simulated()[1])
    assert (rsvp.partstat, rsvp.sequence, rsvp.comment, rsvp.attendee_name) == (
        "DECLINED", 2, "Sorry; away, back on\nMonday", "Ana Novák, PhD")


def test_answers_with_a_time_zone_or_an_alarm_are_parsed_whole():
    texts = {path.name: parse_message(path.read_bytes()).calendar for path in SAMPLES.glob("*.eml")}
    assert plain_event(texts["exchange_accept.eml"]) is None  # its VTIMEZONE
    assert plain_event(texts["google_accept.eml"]) is None  # its VALARM


# What a mutation may put in: shapes the short reading must either read as from_ical does or leave to it.
INSERTS = ("BEGIN:VALARM", "END:VALARM", "BEGIN:VTIMEZONE", "END:VEVENT", "BEGIN:VEVENT", "END:VCALENDAR",
           "BEGIN:VCALENDAR", "METHOD:COUNTER", "METHOD;X=1:REPLY", "RECURRENCE-ID;TZID=Europe/Paris:20270110T180000",
           "RECURRENCE-ID:20270110T170000Z", "RECURRENCE-ID;VALUE=DATE:20270110", "SEQUENCE:x", "SEQUENCE:3",
           "DTSTAMP;TZID=Europe/Paris:20270101T100000", "DTSTAMP:20270101", "COMMENT;LANGUAGE=fr:Peut-\\,être",
           "ATTENDEE;PARTSTAT=ACCEPTED;X-RESPONSE-COMMENT=\"a;b\":mailto:ana@sim.example.com",
           "ATTENDEE;PARTSTAT=DECLINED;DELEGATED-FROM=\"mailto:x@y.z\",\"mailto:w@y.z\":mailto:bo@sim.example.com",
           "ATTENDEE;CN=\"unclosed:mailto:c@d.e", "ATTENDEE;=x:mailto:e@f.g", "ATT ENDEE:mailto:g@h.i",
           "X-WR-CALNAME:Team", "CALSCALE:GREGORIAN", "VERSION;X=1:2.0", "PRODID:a\\;b", "UID:other-uid",
           "UID;X-A=\"q\":uid-q", "uid:lower-case", "begin:valarm", "end:valarm", ":", ";", "no colon at all",
           "X-COMMENT:trailing", "DESCRIPTION;ALTREP=\"cid:x\":Hello\\nthere", "GEO:1;2", "FREEBUSY:x",
           "TZOFFSETFROM:+0100", "TZOFFSETFROM:bad", "RRULE:FREQ=WEEKLY", "RRULE:FREQ=NEVER", "CATEGORIES:a,b")


def mutate(rng: random.Random, text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(lines) + 1)
        roll = rng.random()
        if roll < 0.3:
            lines.insert(at, rng.choice(INSERTS))
        elif roll < 0.45 and lines:
            del lines[min(at, len(lines) - 1)]
        elif roll < 0.6 and lines:
            lines.insert(at, lines[min(at, len(lines) - 1)])
        elif roll < 0.75 and lines:
            line = lines[min(at, len(lines) - 1)]
            cut = rng.randrange(len(line) + 1)
            lines[min(at, len(lines) - 1)] = line[:cut] + rng.choice(("\n ", "\n\t", "\r\n ", " ", "\\", '"')) + line[cut:]
        elif lines:
            line = lines[min(at, len(lines) - 1)]
            lines[min(at, len(lines) - 1)] = rng.choice((line.lower(), line.upper(), line + " ", " " + line))
    return rng.choice(("\n", "\r\n")).join(lines)


def test_mutated_answers_read_as_the_whole_parse_read_them():
    rng = random.Random(25)
    bases = answers()
    plain = 0
    for _ in range(1500):
        text = mutate(rng, rng.choice(bases))
        plain += plain_event(text) is not None
        same_reading(text, (rng.choice(SENDERS),))
    assert plain > 300  # many mutants are still plain: the short reading was compared, not only the fallback
