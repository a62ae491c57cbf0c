"""Invitations, updates and cancellations as calendars read them.

Each one goes through the real flow and outbox; the calendar part of the stored email must
survive an icalendar round trip, be placed at the right UTC instant by vobject, and be found
at that instant (and not an hour off) by a real Radicale's calendar-query REPORT after a PUT
without METHOD. The expected instants are written out by hand, not computed with zoneinfo:
London in March and New York in July, and each side of every 2027 daylight-saving change.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
import pytest
import vobject

from mailer.flows import meetup
from mailer.flows.meetup import actions
from mailer.flows.meetup.definition import to_utc
from mailer.outbound.invite import for_storage
from tests.flows.meetup.conftest import SCHEDULED_AT, UTC, email_parts, sent_bytes, spec

ANA = "ana@corp.example.com"
# (zone, local wall time, the UTC instant it is)
CASES = [
    ("Europe/London", datetime(2027, 3, 25, 18, 0), datetime(2027, 3, 25, 18, 0, tzinfo=UTC)),  # GMT
    ("Europe/London", datetime(2027, 3, 28, 9, 0), datetime(2027, 3, 28, 8, 0, tzinfo=UTC)),  # change day
    ("Europe/London", datetime(2027, 3, 30, 18, 0), datetime(2027, 3, 30, 17, 0, tzinfo=UTC)),  # BST
    ("Europe/London", datetime(2027, 10, 30, 18, 0), datetime(2027, 10, 30, 17, 0, tzinfo=UTC)),
    ("Europe/London", datetime(2027, 11, 1, 18, 0), datetime(2027, 11, 1, 18, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2027, 3, 13, 12, 0), datetime(2027, 3, 13, 17, 0, tzinfo=UTC)),  # EST
    ("America/New_York", datetime(2027, 3, 15, 12, 0), datetime(2027, 3, 15, 16, 0, tzinfo=UTC)),  # EDT
    ("America/New_York", datetime(2027, 7, 15, 12, 0), datetime(2027, 7, 15, 16, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2027, 11, 6, 12, 0), datetime(2027, 11, 6, 16, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2027, 11, 8, 12, 0), datetime(2027, 11, 8, 17, 0, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2027, 7, 10, 18, 0), datetime(2027, 7, 10, 16, 0, tzinfo=UTC)),
]
MINUTE = timedelta(minutes=1)


def schedule(db, zone: str, local: datetime) -> int:
    return meetup.schedule_meetup(db, spec(to_utc(local, zone, "test"), zone), SCHEDULED_AT)


def calendar_of(db, key: str) -> tuple[bytes, dict]:
    """The invitation's calendar bytes from the stored email, checked against its attachment."""
    parts = email_parts(sent_bytes(db, key))
    assert parts["inline"] == parts["ics"], "the attachment must carry the same bytes as the inline part"
    assert parts["ics_name"] == "invite.ics"
    return parts["inline"], parts


def vevent(data: bytes) -> icalendar.Event:
    cal = icalendar.Calendar.from_ical(data)
    assert cal.to_ical() == icalendar.Calendar.from_ical(cal.to_ical()).to_ical()  # round trip is stable
    (event,) = cal.events
    return event


def vobject_start(data: bytes) -> datetime:
    return vobject.readOne(data.decode("utf-8")).vevent.dtstart.value


def found_at(caldav, calendar: str, moment: datetime) -> list[str]:
    return [text for _, text in caldav.query(calendar, moment - MINUTE, moment + MINUTE)]


@pytest.mark.parametrize("zone,local,instant", CASES, ids=[f"{z}-{l:%Y%m%d%H}" for z, l, _ in CASES])
def test_the_invitation_is_at_the_right_instant_everywhere(db, settings, sim, crew, caldav, zone, local, instant):
    meetup_id = schedule(db, zone, local)
    sim.tick(SCHEDULED_AT)
    data, parts = calendar_of(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew[ANA]}")
    event = vevent(data)
    assert event.start == instant and event.end == instant + timedelta(hours=1)
    assert vobject_start(data) == instant
    assert b"VTIMEZONE" not in data and b"VALARM" not in data
    calendar = caldav.new_calendar()
    assert caldav.put(f"{calendar}{event['UID']}.ics", for_storage(data)) == 201
    assert len(found_at(caldav, calendar, instant)) == 1
    assert found_at(caldav, calendar, instant + timedelta(hours=1, minutes=1)) == []  # ended on time
    assert found_at(caldav, calendar, instant - timedelta(hours=1)) == []  # never an hour early


def test_an_invitation_has_what_the_clients_need(db, settings, sim, crew):
    meetup_id = schedule(db, "Europe/London", datetime(2027, 3, 30, 18, 0))
    sim.tick(SCHEDULED_AT)
    data, parts = calendar_of(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew[ANA]}")
    cal = icalendar.Calendar.from_ical(data)
    event = vevent(data)
    assert cal["METHOD"] == "REQUEST" and "UID" not in cal
    assert parts["tree"][:5] == [("multipart/mixed", None), ("multipart/alternative", None),
                                 ("text/plain", None), ("text/html", None), ("text/calendar", "REQUEST")]
    assert parts["tree"][5] == ("application/ics", None)
    assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTAMP") == SCHEDULED_AT
    assert str(event["ORGANIZER"]).lower() == f"mailto:{settings.mailer_address}"
    (attendee,) = [event["ATTENDEE"]]
    assert str(attendee) == f"mailto:{ANA}"
    assert attendee.params["RSVP"] == "TRUE" and attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert parts["message"]["To"].endswith(f"<{ANA}>")
    assert "meet.example.com/rb" in str(event["LOCATION"]) and str(event["URL"]) == "https://meet.example.com/rb"
    # the email text shows the invitee's own local time and zone
    assert "Tue 30 Mar 2027, 18:00–19:00 (1 hour), your time (Europe/London, BST)" in parts["text/plain"]


def test_the_text_shows_each_invitee_their_own_time(db, settings, sim, crew):
    meetup_id = schedule(db, "Europe/London", datetime(2027, 3, 30, 18, 0))
    sim.tick(SCHEDULED_AT)
    text = email_parts(sent_bytes(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew['bob@corp.example.com']}"))
    assert "Tue 30 Mar 2027, 13:00–14:00 (1 hour), your time (America/New_York, EDT); 18:00 in London" \
        in text["text/plain"]
    text = email_parts(sent_bytes(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew['chen@corp.example.com']}"))
    assert "Wed 31 Mar 2027, 01:00–02:00 (1 hour), your time (Asia/Shanghai, CST)" in text["text/plain"]


def test_a_move_replaces_the_event_and_a_cancel_marks_it_cancelled(db, settings, sim, crew, caldav):
    before, after = datetime(2027, 3, 25, 18, 0, tzinfo=UTC), datetime(2027, 4, 1, 17, 0, tzinfo=UTC)
    meetup_id = schedule(db, "Europe/London", datetime(2027, 3, 25, 18, 0))  # GMT, then BST
    sim.tick(SCHEDULED_AT)
    first, _ = calendar_of(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew[ANA]}")
    uid = str(vevent(first)["UID"])
    calendar = caldav.new_calendar()
    resource = f"{calendar}{uid}.ics"
    assert caldav.put(resource, for_storage(first)) == 201
    assert caldav.put(f"{calendar}copy.ics", for_storage(first)) == 409  # one UID, one resource

    later = SCHEDULED_AT + timedelta(days=1)
    actions.move_meetup(db, meetup_id, to_utc(datetime(2027, 4, 1, 18, 0), "Europe/London", "t"), None, later)
    sim.tick(later)
    update, parts = calendar_of(db, f"meetup:{meetup_id}:invite:seq:1:person:{crew[ANA]}")
    event = vevent(update)
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 1 and event.start == after
    assert event.decoded("DTSTAMP") == later and vobject_start(update) == after
    assert parts["message"]["Subject"].startswith("Updated: Report-back meetup")
    assert caldav.put(resource, for_storage(update)) == 204
    assert found_at(caldav, calendar, before) == []
    (stored,) = found_at(caldav, calendar, after)
    assert "SEQUENCE:1" in stored

    actions.cancel_meetup(db, meetup_id, "Room flooded", later + timedelta(hours=1))
    sim.tick(later + timedelta(hours=1))
    cancel, parts = calendar_of(db, f"meetup:{meetup_id}:cancel:person:{crew[ANA]}")
    cal = icalendar.Calendar.from_ical(cancel)
    event = vevent(cancel)
    assert cal["METHOD"] == "CANCEL" and parts["tree"][4] == ("text/calendar", "CANCEL")
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"
    assert vobject_start(cancel) == after
    assert caldav.put(resource, for_storage(cancel)) == 204
    (stored,) = found_at(caldav, calendar, after)
    assert "STATUS:CANCELLED" in stored
    assert "Room flooded" in parts["text/plain"]


def test_stored_objects_carry_no_method(db, settings, sim, crew):
    meetup_id = schedule(db, "Europe/London", datetime(2027, 3, 30, 18, 0))
    sim.tick(SCHEDULED_AT)
    data, _ = calendar_of(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew[ANA]}")
    assert b"METHOD:" in data and b"METHOD" not in for_storage(data)
