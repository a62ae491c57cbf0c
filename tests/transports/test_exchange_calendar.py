"""Native meetings: Exchange calendar items through exchangelib over real HTTP, against the local
EWS server (tests/ews_server.py, calendar side in tests/ews_calendar.py)."""
from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from mailer.config import load_settings
from mailer.errors import TemporarySendError, TransportError
from mailer.transports import make_transport
from mailer.transports.base import Meeting, NativeEvent, Response
from mailer.transports.exchange import ExchangeTransport
from mailer.transports.exchange_connect import ExchangeSettings
from tests.ews_calendar import MeetingMail
from tests.transports.test_exchange import LIVE, MAILBOX, Clock, reply, write_home

LONDON = ZoneInfo("Europe/London")
START = datetime(2027, 3, 30, 16, 0, tzinfo=LONDON)  # BST: 15:00 UTC
ANA, BO, CY = "ana@corp.example.com", "bo@corp.example.com", "Cy@corp.example.com"


@pytest.fixture
def transport(ews):
    built = ExchangeTransport(ExchangeSettings(mailbox=MAILBOX, endpoint=ews.url, auth="none", native_meetings=True))
    yield built
    built.close()


def meetup(start: datetime = START, attendees=(ANA, BO), location: str = "Room 4") -> Meeting:
    return Meeting("Report-back: pipeline mapping", start, start + timedelta(hours=1), tuple(attendees), location,
                   "<p>What we learned.</p>", uid="meetup-5@cop.corp.example.com")


def test_native_meetings_come_from_the_config_file(home, ews):
    off = make_transport(load_settings(write_home(home, ews), env={}))
    with (home / "mailer.toml").open("a") as toml:
        toml.write("native_meetings = true\n")  # [exchange] is the file's last table
    on = make_transport(load_settings(home, env={}))
    assert on.calendar is not None and off.calendar is None
    assert ews.requests == []  # building a transport and its calendar asks nothing of the server


def test_create_makes_a_calendar_item_with_our_uid_and_invites_everyone(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    assert made.uid == "meetup-5@cop.corp.example.com"
    assert [i.id for i in ews.items("calendar")] == [made.id]
    entry = ews.calendar(made.id)
    assert (entry.start, entry.end) == (datetime(2027, 3, 30, 15, tzinfo=timezone.utc),
                                        datetime(2027, 3, 30, 16, tzinfo=timezone.utc))
    assert (entry.subject, entry.location, entry.body_type) == ("Report-back: pipeline mapping", "Room 4", "HTML")
    assert entry.body == "<p>What we learned.</p>"
    assert [a.email for a in entry.required] == [ANA, BO]
    assert ews.meeting_mail == [MeetingMail(made.uid, "invite", (ANA, BO))]


def test_a_retried_create_after_a_lost_answer_gives_the_same_item(transport, ews):
    ews.fail_after_send()  # the item is made and the invitations go, then the answer is lost
    with pytest.raises(TransportError) as lost:
        transport.calendar.create(meetup(), "meetup:5")
    assert not isinstance(lost.value, TemporarySendError)
    first = ews.items("calendar")
    assert len(first) == 1
    again = transport.calendar.create(meetup(), "meetup:5")
    assert again == NativeEvent(first[0].id, "meetup-5@cop.corp.example.com")
    assert len(ews.items("calendar")) == 1 and len(ews.meeting_mail) == 1  # one item, one invitation


def test_another_meeting_at_the_same_time_is_not_taken_for_ours(transport, ews):
    other = Meeting("Someone else's", START, START + timedelta(hours=1), (CY,), uid="other-uid")
    transport.calendar.create(other, "meetup:4")
    made = transport.calendar.create(meetup(), "meetup:5")
    assert len(ews.items("calendar")) == 2 and made.uid == "meetup-5@cop.corp.example.com"


def test_without_a_uid_one_is_made_from_the_key_and_still_found_again(transport, ews):
    bare = Meeting("Coffee", START, START + timedelta(minutes=30), (ANA,))
    made = transport.calendar.create(bare, "meetup:7")
    assert made.uid == f"meetup-7.{MAILBOX}" == ews.calendar(made.id).uid
    assert transport.calendar.create(bare, "meetup:7") == made


def test_answers_are_read_back_by_lower_case_address(transport, ews):
    made = transport.calendar.create(meetup(attendees=(ANA, BO, CY)), "meetup:5")
    ews.respond(made.id, ANA, "Accept", "2027-03-01T10:15:30Z")
    ews.respond(made.id, BO, "Decline")
    assert transport.calendar.responses(made.id) == {
        ANA: Response("accepted", datetime(2027, 3, 1, 10, 15, 30, tzinfo=timezone.utc)),
        BO: Response("declined", datetime(2027, 1, 1, 9, tzinfo=timezone.utc)),
        "cy@corp.example.com": Response("needs-action", None)}
    hook = ews.url.replace("/EWS/Exchange.asmx", f"/_test/respond?item={made.id}&address={CY}&response=Tentative")
    assert requests.post(hook, timeout=5).status_code == 200  # the HTTP form of ews.respond()
    assert transport.calendar.responses(made.id)["cy@corp.example.com"].partstat == "tentative"


def test_no_response_and_organizer_are_needs_action(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    ews.respond(made.id, ANA, "NoResponseReceived")
    ews.respond(made.id, BO, "Organizer")
    assert {a: r.partstat for a, r in transport.calendar.responses(made.id).items()} == {
        ANA: "needs-action", BO: "needs-action"}
    assert all(r.at is None for r in transport.calendar.responses(made.id).values())


def test_moving_the_meeting_updates_everyone_and_keeps_their_answers(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    ews.respond(made.id, ANA, "Accept")
    transport.calendar.update(made.id, meetup(START + timedelta(days=1), location="Room 5"))
    entry = ews.calendar(made.id)
    assert (entry.start, entry.location) == (datetime(2027, 3, 31, 15, tzinfo=timezone.utc), "Room 5")
    assert ews.meeting_mail[1:] == [MeetingMail(made.uid, "update", (ANA, BO))]
    assert transport.calendar.responses(made.id)[ANA].partstat == "accepted"


def test_adding_and_removing_attendees_mails_only_them(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    transport.calendar.update(made.id, meetup(attendees=(ANA, CY)))
    assert [a.email for a in ews.calendar(made.id).required] == [ANA, CY]
    assert ews.meeting_mail[1:] == [MeetingMail(made.uid, "invite", (CY,)), MeetingMail(made.uid, "cancel", (BO,))]


def test_an_update_that_changes_nothing_mails_no_one(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    asked = ews.requests.count("UpdateItem")
    transport.calendar.update(made.id, meetup(attendees=(BO, ANA.upper())))  # same people, other order
    assert ews.requests.count("UpdateItem") == asked and len(ews.meeting_mail) == 1


def test_cancel_tells_everyone_and_moves_the_item_to_deleted_items(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    transport.calendar.cancel(made.id, "Moved to the April meetup.")
    assert ews.meeting_mail[1:] == [MeetingMail(made.uid, "cancel", (ANA, BO), "Moved to the April meetup.")]
    assert ews.items("calendar") == []
    [gone] = ews.items("deleteditems")
    assert gone.calendar.cancelled and gone.calendar.uid == made.uid
    with pytest.raises(TransportError, match="no calendar item"):
        transport.calendar.responses(made.id)
    transport.calendar.cancel(made.id, "Moved to the April meetup.")  # a retry: already cancelled
    assert len(ews.meeting_mail) == 2


def test_naive_times_are_refused_before_anything_is_asked(transport, ews):
    naive = Meeting("Coffee", datetime(2027, 3, 30, 16), datetime(2027, 3, 30, 17), (ANA,), uid="u1")
    with pytest.raises(ValueError, match="no time zone"):
        transport.calendar.create(naive, "meetup:8")
    with pytest.raises(ValueError, match="no time zone"):
        transport.calendar.update("I-1", naive)
    assert ews.requests == []


@pytest.mark.parametrize("verb", ["responses", "update"])
def test_an_unknown_item_is_a_transport_error_naming_it(transport, ews, verb):
    args = {"responses": (), "update": (meetup(),)}[verb]
    with pytest.raises(TransportError, match="no calendar item I-404"):
        getattr(transport.calendar, verb)("I-404", *args)
    assert ews.meeting_mail == []


def test_a_message_id_is_not_taken_for_a_calendar_item(transport, ews):
    message = ews.deliver(reply(1))
    with pytest.raises(TransportError, match="not a calendar item"):
        transport.calendar.responses(message)


def test_busy_back_off_is_honoured_on_calendar_calls(ews):
    clock = Clock(datetime(2027, 3, 1, 9, tzinfo=timezone.utc))
    transport = ExchangeTransport(ExchangeSettings(mailbox=MAILBOX, endpoint=ews.url, auth="none",
                                                   native_meetings=True), clock=clock)
    transport.account.calendar  # connected first, so the busy answer meets the calendar call itself
    ews.busy(1, back_off_ms=90_000)
    with pytest.raises(TemporarySendError) as caught:
        transport.calendar.create(meetup(), "meetup:5")
    assert caught.value.retry_after == 90 and ews.items("calendar") == []
    asked = len(ews.requests)
    clock.now += timedelta(seconds=60)
    for call in (lambda: transport.calendar.create(meetup(), "meetup:5"),
                 lambda: transport.calendar.responses("I-1"), lambda: transport.find_sent("<x@corp.example.com>")):
        with pytest.raises(TransportError, match="wait"):
            call()
    assert len(ews.requests) == asked  # nothing reached the server before the hint ran out
    clock.now += timedelta(seconds=31)
    made = transport.calendar.create(meetup(), "meetup:5")
    assert [i.id for i in ews.items("calendar")] == [made.id]
    transport.close()


def test_a_short_busy_hint_is_slept_through_on_a_calendar_call(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    ews.busy(1, back_off_ms=50)
    assert set(transport.calendar.responses(made.id)) == {ANA, BO}


def test_check_reads_the_calendar_with_native_meetings(transport, ews):
    lines = {line.what: line for line in transport.check()}
    assert lines["calendar"].ok and "calendar items" in lines["calendar"].detail
    assert "CreateItem" not in ews.requests and ews.meeting_mail == []


def test_clearing_the_place_removes_it_from_the_item(transport, ews):
    made = transport.calendar.create(meetup(), "meetup:5")
    transport.calendar.update(made.id, meetup(location=""))
    assert ews.calendar(made.id).location == ""
    assert ews.meeting_mail[1:] == [MeetingMail(made.uid, "update", (ANA, BO))]


@pytest.mark.skipif(not (LIVE["mailbox"] and (LIVE["password"] or LIVE["client_secret"])
                         and os.environ.get("MAILER_EXCHANGE_LIVE_ATTENDEE")),
                    reason="live Exchange calendar test: the live mailbox variables (see test_exchange.py) and "
                           "MAILER_EXCHANGE_LIVE_ATTENDEE (who gets a test invitation, then its cancellation)")
def test_live_mailbox_meeting_create_update_answers_cancel():
    """Against a real mailbox: one meeting a year ahead, moved, its answers read, cancelled."""
    settings = ExchangeSettings(**{k: v for k, v in LIVE.items() if v}, native_meetings=True, source="environment")
    transport = ExchangeTransport(settings)
    attendee = os.environ["MAILER_EXCHANGE_LIVE_ATTENDEE"]
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=365)
    item = Meeting("cop-mailer live test", start, start + timedelta(hours=1), (attendee,), "",
                   "<p>Safe to ignore.</p>", uid=f"cop-mailer-live-{secrets.token_hex(6)}@test")
    made = transport.calendar.create(item, "live")
    try:
        assert transport.calendar.create(item, "live") == made  # found again by its UID
        transport.calendar.update(made.id, Meeting(item.subject, start + timedelta(hours=1),
                                                   start + timedelta(hours=2), item.attendees, uid=item.uid))
        assert attendee.lower() in transport.calendar.responses(made.id)
    finally:
        transport.calendar.cancel(made.id, "cop-mailer live test: safe to ignore.")
        transport.close()
