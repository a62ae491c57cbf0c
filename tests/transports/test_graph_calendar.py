"""Native meetings: Outlook events through Graph, against the local Graph server."""
from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from mailer.errors import TransportError
from mailer.transports.graph import GraphTransport
from mailer.transports.base import Meeting, Response
from mailer.transports.graph_calendar import MAX_ATTENDEES
from mailer.transports.graph_http import GraphSettings
from tests.graph_server import GraphServer

MAILBOX = "cop@example.test"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def graph():
    with GraphServer(MAILBOX) as server:
        yield server


def calendar(server: GraphServer):
    settings = GraphSettings(mailbox=MAILBOX, endpoint=server.endpoint, auth="none", native_meetings=True)
    return GraphTransport(settings).calendar


def meetup(start: datetime, attendees=("ana@corp.example.com", "bo@corp.example.com")) -> Meeting:
    return Meeting("Report-back: pipeline mapping", start, start + timedelta(hours=1), tuple(attendees),
                   "Room 4", "<p>What we learned.</p>")


def test_no_calendar_without_native_meetings(graph):
    assert GraphTransport(GraphSettings(mailbox=MAILBOX, endpoint=graph.endpoint, auth="none")).calendar is None


def test_create_update_answers_and_cancel(graph):
    cal = calendar(graph)
    start = datetime(2027, 3, 30, 16, 0, tzinfo=LONDON)  # BST: 15:00 UTC
    made = cal.create(meetup(start), "meetup:5")
    event_id = made.id
    assert made.uid == graph.box.events[event_id]["iCalUId"] != ""
    event = graph.box.events[event_id]
    assert event["start"] == {"dateTime": "2027-03-30T15:00:00", "timeZone": "UTC"}
    assert [a["emailAddress"]["address"] for a in event["attendees"]] == ["ana@corp.example.com", "bo@corp.example.com"]
    assert cal.create(meetup(start), "meetup:5") == made  # a retried create: the same event
    assert len(graph.box.events) == 1

    graph.respond(event_id, "ana@corp.example.com", "accepted")
    graph.respond(event_id, "bo@corp.example.com", "declined", "2027-03-01T10:15:30.1234567")
    cal.update(event_id, meetup(start + timedelta(days=1), ("ana@corp.example.com", "bo@corp.example.com",
                                                           "Cy@corp.example.com")))
    assert graph.box.events[event_id]["start"]["dateTime"] == "2027-03-31T15:00:00"
    answers = cal.responses(event_id)
    assert answers == {"ana@corp.example.com": Response("accepted", datetime(2027, 1, 1, 9, tzinfo=timezone.utc)),
                       "bo@corp.example.com": Response("declined", datetime(2027, 3, 1, 10, 15, 30, 123456,
                                                                            tzinfo=timezone.utc)),
                       "cy@corp.example.com": Response("needs-action", None)}

    cal.cancel(event_id, "Moved to the April meetup.")
    assert graph.box.events[event_id]["isCancelled"] is True
    cal.cancel("AAMk/deleted-in-outlook=", "Moved.")  # an event already gone counts as cancelled


def test_too_many_attendees_is_refused_before_asking(graph):
    people = [f"p{i}@corp.example.com" for i in range(MAX_ATTENDEES + 1)]
    with pytest.raises(TransportError, match="at most 500"):
        calendar(graph).create(meetup(datetime(2027, 3, 30, 16, tzinfo=LONDON), people), "meetup:6")
    assert graph.box.events == {} and graph.box.log == []


def test_a_missing_event_is_a_transport_error(graph):
    with pytest.raises(TransportError, match="404 ErrorItemNotFound"):
        calendar(graph).responses("AAMk/none=")


LIVE_CALENDAR_VARS = ("MAILER_GRAPH_LIVE_MAILBOX", "MAILER_GRAPH_LIVE_TENANT_ID", "MAILER_GRAPH_LIVE_CLIENT_ID",
                      "MAILER_GRAPH_CLIENT_SECRET", "MAILER_GRAPH_LIVE_ATTENDEE")


@pytest.mark.skipif(not all(os.environ.get(v) for v in LIVE_CALENDAR_VARS),
                    reason="live Graph calendar test: set " + ", ".join(LIVE_CALENDAR_VARS) +
                           " (the attendee gets a test invitation, then its cancellation)")
def test_live_tenant_event_create_update_answers_cancel():
    """Against a real tenant (Calendars.ReadWrite): one event a year ahead, moved, read, cancelled."""
    env = os.environ
    settings = GraphSettings(mailbox=env["MAILER_GRAPH_LIVE_MAILBOX"], tenant_id=env["MAILER_GRAPH_LIVE_TENANT_ID"],
                             client_id=env["MAILER_GRAPH_LIVE_CLIENT_ID"],
                             client_secret=env["MAILER_GRAPH_CLIENT_SECRET"], native_meetings=True)
    cal = GraphTransport(settings).calendar
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=365)
    item = meetup(start, (env["MAILER_GRAPH_LIVE_ATTENDEE"],))
    made = cal.create(item, f"cop-mailer-live:{secrets.token_hex(6)}")
    try:
        assert made.uid
        cal.update(made.id, meetup(start + timedelta(hours=1), item.attendees))
        assert set(cal.responses(made.id)) >= {env["MAILER_GRAPH_LIVE_ATTENDEE"].lower()}
    finally:
        cal.cancel(made.id, "cop-mailer live test: safe to ignore.")
