"""iCalendar building: what every REQUEST and CANCEL holds, and what it never holds."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import icalendar
import pytest

from mailer.outbound import invite

START = datetime(2027, 3, 30, 17, 0, tzinfo=timezone.utc)
STAMP = datetime(2027, 3, 1, 9, 0, 12, 345, tzinfo=timezone.utc)
EVENT = invite.EventInfo("meetup-abc@cop-mailer", 3, "Report-back", START, 45, "Room 4",
                         "https://meet.example.com/x", "Highlights")
ORGANIZER = invite.Party("cop@example.test", "Community of Practice")
ANA = invite.Party("ana@corp.example.com", "Ana Costa")


def event_of(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    (event,) = cal.events
    return cal, event


def test_a_request_for_one_attendee():
    cal, event = event_of(invite.request(EVENT, ORGANIZER, ANA, STAMP))
    assert cal["METHOD"] == "REQUEST" and event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 3
    assert event.start == START and event.end == START + timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == STAMP.replace(microsecond=0)
    assert str(event["ATTENDEE"]) == "mailto:ana@corp.example.com"  # one attendee, not a list
    assert str(event["ORGANIZER"]) == "mailto:cop@example.test"
    assert str(event["LOCATION"]) == "Room 4 · https://meet.example.com/x"
    assert "Join online: https://meet.example.com/x" in str(event["DESCRIPTION"])


def test_a_cancel_outranks_and_is_cancelled():
    cal, event = event_of(invite.cancel(EVENT, ORGANIZER, ANA, STAMP))
    assert cal["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == EVENT.uid and event["SEQUENCE"] == 3


def test_a_link_only_meeting_is_not_written_twice():
    online = invite.EventInfo("u", 0, "T", START, 60, "https://meet.example.com/x", "https://meet.example.com/x")
    _, event = event_of(invite.request(online, ORGANIZER, ANA, STAMP))
    assert str(event["LOCATION"]) == "https://meet.example.com/x"


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        invite.request(invite.EventInfo("u", 0, "T", START.replace(tzinfo=None), 60), ORGANIZER, ANA, STAMP)


def test_the_calendar_shared_by_invitees_is_the_one_built_for_each():
    """Everything but the ATTENDEE line is built once per meetup version, stamp and language;
    each invitee's calendar is the same bytes as one built for them alone, however their name
    folds (quotes, commas, accents, long names, none)."""
    rng = random.Random(25)
    letters = "abcdefghijklmnopqrstuvwxyz ABCXYZ,;:\"'\\^-.ÄöüŸ李\u00a0"
    invite._shared.cache_clear()
    for n in range(500):
        name = "".join(rng.choice(letters) for _ in range(rng.randint(0, 90)))
        party = invite.Party(f"p{n}.{'x' * rng.randint(0, 60)}@corp.example.com", name)
        for method, language in (("REQUEST", "en"), ("CANCEL", "de"), ("REQUEST", "ja")):
            assert invite._calendar(method, EVENT, ORGANIZER, party, STAMP, language) == \
                invite.whole_calendar(method, EVENT, ORGANIZER, party, STAMP, language), (name, method)
    assert invite._shared.cache_info().misses == 3 and invite._shared.cache_info().hits == 1497
