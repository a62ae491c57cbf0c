"""Meetups as native Exchange calendar items through the real worker tick, against the local EWS
server (exchangelib over real HTTP).

Exchange Server sends the meeting request, the update and the cancellation from the service's
calendar; the item carries the meetup's own UID, so an attendee's calendar answer that reaches
the inbox as a meeting response is routed like any iMIP reply.
"""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.meetup import actions, schedule_meetup
from mailer.store import meetups as store
from mailer.store import open_db, people
from mailer.transports import make_transport
from tests.ews_calendar import MeetingMail
from tests.ews_server import EwsServer
from tests.flows.meetup.conftest import CREW, exchange_reply, spec
from tests.transports.test_exchange import MAILBOX, write_home

UTC = timezone.utc
SCHEDULED = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2027, 3, 30, 17, 0, tzinfo=UTC)
ANA, BOB, CHEN, _ = (e for e, _, _ in CREW)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def town(home, ews):
    write_home(home, ews)
    with (home / "mailer.toml").open("a") as toml:
        toml.write("native_meetings = true\n")  # [exchange] is the file's last table
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for address, name, zone in CREW:
        people.add_person(db, address, name, zone)
    transport = make_transport(settings, db)
    yield db, transport, settings
    transport.close()
    db.close()


def tick(town, now: datetime) -> worker.TickResult:
    db, transport, settings = town
    return worker.tick(db, transport, now, settings, "w1")


def mailed(ews: EwsServer, prefix: str) -> list[str]:
    subjects = [email.message_from_bytes(raw, policy=email.policy.default)["Subject"] for raw in ews.sent]
    return [s for s in subjects if s.startswith(prefix)]


def answers(db, meetup_id: int) -> dict[str, tuple[str, int | None]]:
    return {p["email"]: (p["partstat"], p["answered_version"]) for p in store.list_invitees(db, meetup_id)}


def test_a_meetup_lives_as_one_exchange_meeting_from_invitation_to_cancellation(town, ews):
    db = town[0]
    meetup_id = schedule_meetup(db, spec(START), SCHEDULED)
    meetup = store.get_meetup(db, meetup_id)
    for minute in (0, 10, 20):
        tick(town, SCHEDULED + minute * MINUTE)
    [item] = ews.items("calendar")
    assert ews.calendar(item.id).uid == meetup["uid"]  # our UID: calendars answer with it
    assert ews.meeting_mail == [MeetingMail(meetup["uid"], "invite", (ANA, BOB, CHEN))]
    assert mailed(ews, "Invitation:") == []

    ews.respond(item.id, ANA, "Accept", "2027-03-01T11:00:00Z")
    ews.respond(item.id, BOB, "Decline", "2027-03-01T11:30:00Z")
    tick(town, SCHEDULED + 30 * MINUTE)
    assert answers(db, meetup_id) == {ANA: ("accepted", 0), BOB: ("declined", 0), CHEN: ("needs-action", None)}

    moved_at = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    actions.move_meetup(db, meetup_id, START + timedelta(days=1), None, moved_at)
    tick(town, moved_at)
    tick(town, moved_at + 10 * MINUTE)
    assert [m.action for m in ews.meeting_mail] == ["invite", "update"]
    assert set(ews.meeting_mail[1].recipients) == {ANA, BOB, CHEN}  # a new time concerns everyone
    assert mailed(ews, "Updated:") == []

    actions.cancel_meetup(db, meetup_id, "Speaker unwell", moved_at + timedelta(hours=1))
    tick(town, moved_at + timedelta(hours=1))
    tick(town, moved_at + timedelta(hours=2))
    assert ews.meeting_mail[2:] == [MeetingMail(meetup["uid"], "cancel", (ANA, BOB, CHEN), "Speaker unwell")]
    assert store.native_event(db, meetup_id)["state"] == "cancelled"
    assert mailed(ews, "Cancelled:") == []


def test_a_meeting_response_in_the_inbox_is_an_rsvp(town, ews):
    db = town[0]
    meetup_id = schedule_meetup(db, spec(START), SCHEDULED)
    tick(town, SCHEDULED)
    uid = store.get_meetup(db, meetup_id)["uid"]
    ews.deliver(exchange_reply(CHEN, MAILBOX, uid, "TENTATIVE"), tag="MeetingResponse")
    tick(town, SCHEDULED + MINUTE)
    assert answers(db, meetup_id)[CHEN] == ("tentative", 0)
    assert ews.items("inbox") == []  # filed away like any handled message
