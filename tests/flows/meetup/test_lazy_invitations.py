"""Issue 25: a meetup's invitations are planned one at a time as the outbox takes them, each with
a calendar built once per version and its invitee put in."""
from __future__ import annotations

import email
from datetime import datetime, timedelta
from email.policy import compat32

import icalendar

from mailer import worker
from mailer.flows import meetup
from mailer.flows.meetup import emails as mail
from mailer.outbound import invite
from mailer.store import meetups as store
from tests.flows.meetup.conftest import UTC, spec
from tests.flows.meetup.test_scale import crowd

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
START = datetime(2027, 2, 10, 16, 0, tzinfo=UTC)


def calendar_of(data: bytes) -> bytes:
    msg = email.message_from_bytes(data, policy=compat32)
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True)


def test_invitations_are_built_as_they_are_taken_not_all_at_once(db, settings, monkeypatch):
    crowd(db, 300, "member")
    meetup.schedule_meetup(db, spec(START, invite=["member"], uid="lazy@x.test"), NOW)
    built = []
    real = mail.invitation
    monkeypatch.setattr(mail, "invitation", lambda *args: built.append(1) or real(*args))
    plans = meetup.due(db, NOW, settings)
    first = next(iter(plans))
    assert first.key.startswith("meetup:") and len(built) == 1


def test_every_invitee_gets_their_own_calendar_from_one_built_per_version(db, settings):
    crowd(db, 300, "member")
    meetup_id = meetup.schedule_meetup(db, spec(START, invite=["member"], uid="shared@x.test"), NOW)
    invite._shared.cache_clear()
    assert worker.plan_due(db, NOW, settings) == 300
    assert invite._shared.cache_info().misses == 1  # one calendar for the version; 300 attendees put in
    row = store.get_meetup(db, meetup_id)
    event, organizer = mail.event_info(row), mail.organizer(settings)
    rows = list(db.query("SELECT o.to_addr, d.data, p.name FROM outbox o JOIN outbox_data d ON d.id = o.id "
                         "JOIN people p ON p.email = o.to_addr WHERE o.key LIKE 'meetup:%:invite:%'"))
    assert len(rows) == 300
    for found in rows:
        ics = calendar_of(found["data"])
        alone = invite.whole_calendar("REQUEST", event, organizer, invite.Party(found["to_addr"], found["name"]),
                                      NOW, "en")
        assert ics == alone
        (vevent,) = icalendar.Calendar.from_ical(ics).events
        assert str(vevent["ATTENDEE"]) == f"mailto:{found['to_addr']}"
    assert worker.plan_due(db, NOW + timedelta(minutes=1), settings) == 0


def test_reminders_are_made_as_they_are_taken_not_all_at_once(db, settings, monkeypatch):
    # a 50,000-invitee meetup's reminders in one list were the simulation's day-2 peak (+158 MB)
    crowd(db, 300, "member")
    meetup.schedule_meetup(db, spec(START, invite=["member"], uid="lazy-reminders@x.test"), NOW)
    worker.plan_due(db, NOW, settings)  # the invitations, stored
    made = []
    real = mail.reminder
    monkeypatch.setattr(mail, "reminder", lambda *args: made.append(1) or real(*args))
    plans = iter(meetup.due(db, START - timedelta(hours=12), settings))
    first = next(plans)
    assert ":reminder:" in first.key and len(made) == 1
    assert 1 + sum(1 for _ in plans) == 300 == len(made)
