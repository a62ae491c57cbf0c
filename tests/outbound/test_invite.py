"""iCalendar building: what every REQUEST and CANCEL holds, and what it never holds."""
from __future__ import annotations

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
