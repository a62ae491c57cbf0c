"""Meetups as native calendar events through the real worker tick, against the local Graph server.

With ``[graph] native_meetings = true`` Exchange Online itself sends the invitation, the update
and the cancellation; cop-mailer mirrors the meetup and reads each attendee's answer back into
the same RSVP records as iMIP replies. The reminder and the highlight question stay our email.
"""
from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from mailer import worker
from mailer.cli import main
from mailer.config import load_settings
from mailer.flows.meetup import actions, schedule_meetup
from mailer.store import meetups as store
from mailer.store import open_db, people, planning
from mailer.transports import make_transport
from tests.flows.meetup.conftest import CREW, exchange_reply, spec
from tests.graph_server import GraphServer

UTC = timezone.utc
MAILBOX = "cop@example.test"
SCHEDULED = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2027, 3, 30, 17, 0, tzinfo=UTC)
ANA, BOB, CHEN, DORA = (e for e, _, _ in CREW)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def graph():
    with GraphServer(MAILBOX) as server:
        yield server


def home(tmp_path, server: GraphServer, native: bool = True):
    path = tmp_path / "home"
    path.mkdir(exist_ok=True)
    (path / "mailer.toml").write_text(
        f'[mailer]\ndata = "none"\naddress = "{MAILBOX}"\n[transport]\nkind = "graph"\n'
        f'[graph]\nendpoint = "{server.endpoint}"\nauth = "none"\nnative_meetings = {str(native).lower()}\n')
    return load_settings(path, env={})


class Community:
    """A Graph home with four people, ticked by the real worker on an injected clock."""

    def __init__(self, tmp_path, server: GraphServer, native: bool = True) -> None:
        self.server, self.settings = server, home(tmp_path, server, native)
        self.db = open_db(self.settings.db_path)
        for address, name, zone in CREW:
            people.add_person(self.db, address, name, zone)
        self.transport = make_transport(self.settings, self.db)

    def tick(self, now: datetime) -> worker.TickResult:
        return worker.tick(self.db, self.transport, now, self.settings, "w1")

    def mailed(self, prefix: str) -> list[str]:
        """Recipients of the mail we sent whose subject starts with ``prefix``."""
        found = []
        for raw in self.server.sent():
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            if msg["Subject"].startswith(prefix):
                found.append(msg["To"].addresses[0].addr_spec)
        return sorted(found)

    def answers(self, meetup_id: int) -> dict[str, tuple[str, int | None]]:
        return {p["email"]: (p["partstat"], p["answered_version"]) for p in store.list_invitees(self.db, meetup_id)}

    def event(self, meetup_id: int) -> dict:
        return self.server.box.events[store.native_event(self.db, meetup_id)["event_id"]]


@pytest.fixture
def community(tmp_path, graph):
    town = Community(tmp_path, graph)
    yield town
    town.transport.close()


def attendees(event: dict) -> list[str]:
    return sorted(a["emailAddress"]["address"] for a in event["attendees"])


def test_a_meetup_becomes_one_event_that_the_server_sends_and_no_invitation_is_mailed(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    for minute in range(0, 60, 10):
        community.tick(SCHEDULED + minute * MINUTE)
    assert len(graph.box.events) == 1
    event = community.event(meetup_id)
    assert attendees(event) == [ANA, BOB, CHEN]
    assert event["subject"] == "Report-back meetup"
    assert event["start"] == {"dateTime": "2027-03-30T17:00:00", "timeZone": "UTC"}
    assert "Room 4" in event["location"]["displayName"] and "https://meet.example.com/rb" in event["body"]["content"]
    assert [m for m, path in graph.box.log if path.startswith("events")].count("PATCH") == 0  # nothing changed
    assert community.mailed("Invitation:") == []


def test_meetup_show_says_which_calendar_carries_it(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    community.tick(SCHEDULED)
    home = str(community.settings.home)
    shown = CliRunner().invoke(main, ["--home", home, "meetup", "show", str(meetup_id)], catch_exceptions=False)
    assert "graph calendar event (live); answers read 2027-03-01T09:00" in shown.output
    data = json.loads(CliRunner().invoke(main, ["--home", home, "meetup", "show", str(meetup_id), "--json"]).output)
    assert data["calendar_event"]["event_id"] == community.event(meetup_id)["id"]


def test_answers_in_calendars_become_rsvps_once(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    community.tick(SCHEDULED)
    event_id = community.event(meetup_id)["id"]
    graph.respond(event_id, ANA, "accepted", "2027-03-02T08:00:00.0000000")
    graph.respond(event_id, BOB, "declined", "2027-03-02T08:30:00.0000000")
    graph.respond(event_id, CHEN, "tentativelyAccepted", "2027-03-02T09:00:00.0000000")
    community.tick(SCHEDULED + 2 * MINUTE)  # answers are read every five minutes, not every tick
    assert community.answers(meetup_id)[ANA] == ("needs-action", None)
    community.tick(SCHEDULED + 6 * MINUTE)
    assert community.answers(meetup_id) == {ANA: ("accepted", 0), BOB: ("declined", 0), CHEN: ("tentative", 0)}
    community.tick(SCHEDULED + 20 * MINUTE)  # read again: nothing new is kept
    kept = store.answers(community.db, meetup_id)
    assert sorted((a["address"], a["partstat"], a["kind"]) for a in kept) == [
        (ANA, "accepted", "calendar"), (BOB, "declined", "calendar"), (CHEN, "tentative", "calendar")]
    assert kept[0]["stamp"] == datetime(2027, 3, 2, 8, 0, tzinfo=UTC)


def test_a_move_patches_the_event_once_and_an_answer_from_before_it_counts_for_the_old_time(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    community.tick(SCHEDULED)
    graph.respond(community.event(meetup_id)["id"], ANA, "accepted", "2027-03-01T10:00:00.0000000")
    moved_at = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    actions.move_meetup(community.db, meetup_id, START + timedelta(days=1), None, moved_at)
    for minute in range(0, 30, 10):
        community.tick(moved_at + minute * MINUTE)
    patches = [path for method, path in graph.box.log if method == "PATCH"]
    assert len(patches) == 1
    assert community.event(meetup_id)["start"]["dateTime"] == "2027-03-31T17:00:00"
    assert store.get_meetup(community.db, meetup_id)["sequence"] == 1
    assert community.answers(meetup_id)[ANA] == ("accepted", 0)  # kept as an answer to version 0
    graph.respond(community.event(meetup_id)["id"], ANA, "declined", "2027-03-03T12:00:00.0000000")
    community.tick(moved_at + 3 * 60 * MINUTE)
    assert community.answers(meetup_id)[ANA] == ("declined", 1)
    assert community.mailed("Updated:") == []


def test_a_late_invitee_joins_the_event_and_reminders_still_come_from_us(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    community.tick(SCHEDULED)
    store.add_invitee(community.db, meetup_id, people.find_person(community.db, DORA)["id"], SCHEDULED + MINUTE)
    community.tick(SCHEDULED + 10 * MINUTE)
    assert attendees(community.event(meetup_id)) == [ANA, BOB, CHEN, DORA]
    graph.respond(community.event(meetup_id)["id"], BOB, "declined")
    community.tick(START - timedelta(hours=23))
    assert community.mailed("Tomorrow:") == [ANA, CHEN, DORA]  # not Bob, who declined


def test_a_cancellation_cancels_the_event_and_mails_nothing(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    community.tick(SCHEDULED)
    actions.cancel_meetup(community.db, meetup_id, "The room flooded.", SCHEDULED + timedelta(days=2))
    community.tick(SCHEDULED + timedelta(days=2))
    community.tick(SCHEDULED + timedelta(days=2, hours=1))
    assert community.event(meetup_id)["isCancelled"] is True
    assert community.event(meetup_id)["cancelComment"] == "The room flooded."
    assert [m for m, path in graph.box.log if path.endswith("/cancel")] == ["POST"]
    assert community.mailed("Cancelled:") == []


def test_a_calendar_reply_carrying_the_events_own_uid_reaches_the_meetup(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    community.tick(SCHEDULED)
    uid = community.event(meetup_id)["iCalUId"]
    graph.deliver(exchange_reply(CHEN, MAILBOX, uid, "ACCEPTED"))
    community.tick(SCHEDULED + MINUTE)
    assert community.answers(meetup_id)[CHEN] == ("accepted", 0)


def test_a_failing_calendar_mails_nothing_and_the_next_tick_makes_the_event(community, graph):
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    graph.fail_events(1)
    result = community.tick(SCHEDULED)
    assert any("500" in note for note in result.notes)
    assert [e["flow"] for e in planning.errors(community.db)] == ["meetup calendar"]
    assert graph.box.events == {} and community.mailed("Invitation:") == []
    community.tick(SCHEDULED + MINUTE)
    assert attendees(community.event(meetup_id)) == [ANA, BOB, CHEN]
    assert planning.errors(community.db) == [] and community.mailed("Invitation:") == []


def test_more_invitees_than_an_event_takes_are_invited_by_email(community, graph):
    community.transport.calendar.max_attendees = 2  # Graph's is 500; two keeps the test small
    meetup_id = schedule_meetup(community.db, spec(START), SCHEDULED)
    result = community.tick(SCHEDULED)
    assert graph.box.events == {}
    assert store.native_event(community.db, meetup_id)["state"] == "imip"
    assert any("more than the 2 one calendar event takes" in note for note in result.notes)
    assert community.mailed("Invitation:") == [ANA, BOB, CHEN]


def test_a_meetup_already_mailed_stays_mailed_when_native_meetings_are_turned_on(tmp_path, graph):
    before = Community(tmp_path, graph, native=False)
    meetup_id = schedule_meetup(before.db, spec(START), SCHEDULED)
    before.tick(SCHEDULED)
    before.transport.close()
    after = Community(tmp_path, graph, native=True)
    actions.move_meetup(after.db, meetup_id, START + timedelta(hours=2), None, SCHEDULED + timedelta(days=1))
    after.tick(SCHEDULED + timedelta(days=1))
    after.transport.close()
    assert graph.box.events == {}
    assert after.mailed("Invitation:") == [ANA, BOB, CHEN] and after.mailed("Updated:") == [ANA, BOB, CHEN]
    assert store.native_event(after.db, meetup_id)["reason"] == "invitations were mailed before native meetings"
