"""Answers coming back through the real inbox (Maildir, classify, routing, flow).

Calendar replies in the shapes Outlook/Exchange, Google, Apple and Thunderbird send
(tests/inbound/samples, addressed to the organiser with no token), text replies written by
``mailer.simulation.replies.compose_reply``, an out-of-office, and answers nobody invited gave.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mailer import inbox
from mailer.cli.meetup import details
from mailer.flows import meetup
from mailer.flows.meetup import actions
from mailer.simulation import calendar_client
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import inbox as inbox_store
from mailer.store import meetups as store
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox
from tests.flows.meetup.conftest import UTC, Sim, spec

SAMPLES = Path(__file__).resolve().parents[2] / "inbound" / "samples"
UID = "meetup-12@example.test"  # the UID the samples answer
SCHEDULED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
MOVED = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
ARRIVES = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
BOB, ALICE, CAROL, DAN = ("bob.brown@corp.example.com", "alice@corp.example.com", "carol@icloud.com",
                          "dan@posteo.example")


@pytest.fixture
def invited(db, settings):
    """The February meetup the samples answer, moved once (now version 1), invitations sent."""
    for address, name, tz in ((BOB, "Bob Brown", "Europe/London"), (ALICE, "Alice Adams", "Europe/London"),
                              (CAROL, "Carol Cruz", "Europe/Madrid"), (DAN, "Dan Dupont", "Europe/Paris"),
                              ("eve@corp.example.com", "Eve Evans", "Europe/Paris")):
        people.add_person(db, address, name, tz, ("member",))
    people.add_alias(db, people.find_person(db, ALICE)["id"], "alice.adams@gmail.com")
    first = datetime(2027, 2, 10, 16, 0, tzinfo=UTC)
    meetup_id = meetup.schedule_meetup(db, spec(first, invite=[BOB, ALICE, CAROL, DAN], uid=UID), SCHEDULED)
    sim = Sim(db, settings)
    sim.tick(SCHEDULED)
    actions.move_meetup(db, meetup_id, first + timedelta(hours=1), None, MOVED)
    sim.tick(MOVED)
    return meetup_id


def run_inbox(db, settings, raw: bytes, now: datetime = ARRIVES) -> dict:
    deliver_to_inbox(settings.mail_dir, raw)
    result = inbox.InboxResult()
    inbox.ingest(db, MaildirTransport(settings.mail_dir), now, result)
    inbox.process(db, now, settings, result)
    return inbox_store.list_messages(db, limit=1)[0]


def answer_of(db, meetup_id: int, email: str) -> dict:
    return next(p for p in details(db, meetup_id)["invitees"] if p["email"] == email)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_outlook_exchange_accept_without_organizer_and_windows_zone(db, settings, invited):
    row = run_inbox(db, settings, sample("exchange_accept.eml"))
    assert row["state"] == "done" and "calendar-uid" in row["rule"]
    bob = answer_of(db, invited, BOB)
    assert (bob["answer"], bob["version"], bob["older_version"]) == ("accepted", 1, False)
    assert bob["comment"] == "See you there" and bob["answered_at"].startswith("2027-01-05T12:00")


def test_google_accept_from_an_alias_to_the_older_version_is_kept_and_marked(db, settings, invited):
    run_inbox(db, settings, sample("google_accept.eml"))
    alice = answer_of(db, invited, ALICE)
    assert (alice["answer"], alice["version"], alice["older_version"]) == ("accepted", 0, True)
    assert alice["comment"] == "Looking forward to it, bringing a colleague"
    bob = answer_of(db, invited, BOB)  # listed in Google's copy of the guest list, but did not answer
    assert bob["answer"] == "needs-action"


def test_apple_decline(db, settings, invited):
    run_inbox(db, settings, sample("apple_decline.eml"))
    carol = answer_of(db, invited, CAROL)
    assert (carol["answer"], carol["version"], carol["older_version"]) == ("declined", 1, False)


def test_thunderbird_tentative_and_counter_proposal(db, settings, invited):
    run_inbox(db, settings, sample("thunderbird_tentative.eml"))
    assert answer_of(db, invited, DAN)["answer"] == "tentative"
    run_inbox(db, settings, sample("thunderbird_counter.eml"))
    assert answer_of(db, invited, DAN)["answer"] == "tentative"  # a proposal changes no answer
    (proposal,) = details(db, invited)["proposals"]
    assert proposal["from"] == DAN and proposal["proposed_start"] == "2027-02-11T17:00:00+00:00"
    assert proposal["comment"] == "Thursday would suit the Lyon team better" and proposal["version"] == 2


def test_an_older_answer_never_outranks_a_newer_one(db, settings, invited):
    run_inbox(db, settings, sample("exchange_accept.eml"))  # version 1: accepted
    older = sample("apple_decline.eml").replace(b"carol@icloud.com", b"bob.brown@corp.example.com") \
        .replace(b"SEQUENCE:1=0D", b"SEQUENCE:0=0D").replace(b"DTSTAMP:20270105T103000Z", b"DTSTAMP:20270105T113000Z")
    row = run_inbox(db, settings, older)  # Bob declines version 0, stamped later
    assert row["state"] == "done"
    bob = answer_of(db, invited, BOB)
    assert (bob["answer"], bob["version"]) == ("accepted", 1)
    kept = store.answers(db, invited, ("calendar",))
    assert [(a["address"], a["version"]) for a in kept] == [(BOB, 1), (BOB, 0)]


def test_same_version_latest_dtstamp_wins(db, settings, invited):
    run_inbox(db, settings, sample("apple_decline.eml"))
    earlier = sample("apple_decline.eml").replace(b"DTSTAMP:20270105T103000Z", b"DTSTAMP:20270105T090000Z") \
        .replace(b"PARTSTAT=\r\n=3DDE=0D\r\n CLINED", b"PARTSTAT=3DACCEPTED=0D\r\n") \
        .replace(b"-1111-", b"-2222-")
    run_inbox(db, settings, earlier)
    assert answer_of(db, invited, CAROL)["answer"] == "declined"


def test_an_answer_from_someone_not_invited_is_kept_for_the_organiser(db, settings, invited):
    stranger = sample("apple_decline.eml").replace(b"carol@icloud.com", b"zed@elsewhere.example") \
        .replace(b"-1111-", b"-3333-")
    row = run_inbox(db, settings, stranger)
    assert row["state"] == "ignored" and "kept for the organiser" in row["reason"]
    assert row["rule"] == "route: calendar-uid"
    assert [p["email"] for p in details(db, invited)["invitees"]] == sorted([BOB, ALICE, CAROL, DAN])
    (kept,) = details(db, invited)["unattributed"]
    assert kept["from"] == "zed@elsewhere.example" and kept["answer"] == "declined"
    assert outbox_store.latest_to(db, "zed@elsewhere.example") is None


def test_a_known_person_who_was_not_invited_is_not_made_an_attendee(db, settings, invited):
    eve = sample("apple_decline.eml").replace(b"carol@icloud.com", b"eve@corp.example.com") \
        .replace(b"-1111-", b"-4444-")
    run_inbox(db, settings, eve)
    assert "eve@corp.example.com" not in [p["email"] for p in details(db, invited)["invitees"]]
    assert details(db, invited)["unattributed"][0]["from"] == "eve@corp.example.com"


def test_an_invitee_cannot_answer_for_another(db, settings, invited):
    forged = sample("apple_decline.eml").replace(b"From: Carol Cruz <carol@icloud.com>",
                                                 b"From: Dan Dupont <dan@posteo.example>")
    row = run_inbox(db, settings, forged)
    assert row["state"] == "ignored" and "not by that attendee: kept for the organiser" in row["reason"]
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"
    assert details(db, invited)["unattributed"][0]["from"] == CAROL


def test_a_reply_for_an_unknown_uid_is_kept_for_the_organiser_and_never_answered(db, settings, invited):
    sent = len(outbox_store.list_rows(db, limit=10_000))
    other = sample("apple_decline.eml").replace(UID.encode(), b"someone-else@example.test")
    row = run_inbox(db, settings, other)
    assert (row["state"], row["outcome"]) == ("ignored", "kept")
    assert "an event we do not know (UID someone-else@example.test): kept for the organiser" in row["reason"]
    # a calendar client sent it: no "reply by hand" note goes back to a machine
    assert len(outbox_store.list_rows(db, limit=10_000)) == sent
    assert [r["id"] for r in inbox_store.waiting_for_lead(db)] == [row["id"]]


# -- text replies -----------------------------------------------------------------------------

def invitation(db, email: str, sequence: int = 1) -> bytes:
    person = people.find_person(db, email)
    key = f"meetup:{{}}:invite:seq:{sequence}:person:{person['id']}"
    row = next(r for r in outbox_store.list_rows(db, limit=1000) if re.fullmatch(key.format(r"\d+"), r["key"]))
    return outbox_store.get_row(db, row["id"])["data"]


@pytest.mark.parametrize("text,client,answer", [
    ("See you there!", "outlook", "accepted"),
    ("I won't be able to attend, sorry.", "gmail", "declined"),
    ("maybe", "apple", "tentative"),
])
def test_text_replies_record_the_answer(db, settings, invited, text, client, answer):
    raw = compose_reply(invitation(db, CAROL), CAROL, "Carol Cruz", text, client, ARRIVES)
    row = run_inbox(db, settings, raw)
    assert row["state"] == "done" and "token" in row["rule"]
    carol = answer_of(db, invited, CAROL)
    assert (carol["answer"], carol["version"], carol["older_version"]) == (answer, 1, False)


def test_a_text_reply_to_the_older_invitation_is_marked_older(db, settings, invited):
    raw = compose_reply(invitation(db, CAROL, sequence=0), CAROL, "Carol Cruz", "Yes, I'll be there", "gmail",
                        ARRIVES)
    run_inbox(db, settings, raw)
    carol = answer_of(db, invited, CAROL)
    assert (carol["answer"], carol["version"], carol["older_version"]) == ("accepted", 0, True)


def test_an_unclear_reply_changes_nothing_and_gets_one_short_question(db, settings, invited):
    for n in range(2):
        raw = compose_reply(invitation(db, CAROL), CAROL, "Carol Cruz", "Is there parking nearby?", "gmail",
                            ARRIVES + timedelta(minutes=n))
        run_inbox(db, settings, raw, ARRIVES + timedelta(minutes=n))
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"
    questions = [r for r in outbox_store.list_rows(db, limit=1000) if ":question:" in r["key"]]
    assert len(questions) == 1 and questions[0]["to_addr"] == CAROL
    assert [(a["kind"], a["version"]) for a in store.answers(db, invited)] == [("unclear", 1), ("unclear", 1)]


def test_an_out_of_office_is_never_an_rsvp(db, settings, invited):
    original = invitation(db, BOB)
    token = re.search(rb"Reply-To: (\S+)", original).group(1)
    oof = sample("outlook_oof.eml")
    oof = re.sub(rb"cop\+[a-z]+@example\.test", token, oof)
    oof = oof.replace(b"Day 3 of 30: write one test before the fix", b"Invitation: Report-back meetup")
    oof = re.sub(rb"I am out of the office.*", b"I am out of the office and won't be able to attend.", oof,
                 flags=re.S)
    row = run_inbox(db, settings, oof)
    assert row["state"] == "ignored" and row["kind"] == "auto_reply"
    assert answer_of(db, invited, BOB)["answer"] == "needs-action"
    assert store.answers(db, invited) == []


# -- after a cancellation ---------------------------------------------------------------------

def cancelled(db, settings, meetup_id: int) -> int:
    """Cancel the meetup and send the cancellations; the number of emails in the outbox."""
    actions.cancel_meetup(db, meetup_id, "Room flooded", ARRIVES - timedelta(hours=2))
    Sim(db, settings).tick(ARRIVES - timedelta(hours=1))
    return len(outbox_store.list_rows(db, limit=10_000))


@pytest.mark.parametrize("client", CLIENTS)
def test_a_calendar_accept_after_the_cancellation_is_kept_for_the_organiser_and_not_answered(
        db, settings, invited, client):
    sent = cancelled(db, settings, invited)
    invitation_seen = calendar_client.read_invitation(invitation(db, CAROL))
    raw = calendar_client.reply(invitation_seen, client, CAROL, "Carol Cruz", "ACCEPTED", "", ARRIVES)
    row = run_inbox(db, settings, raw)
    assert (row["state"], row["outcome"]) == ("done", "kept") and "after it was cancelled" in row["reason"]
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"
    (late,) = details(db, invited)["late"]
    assert (late["from"], late["answer"]) == (CAROL, "accepted")
    assert len(outbox_store.list_rows(db, limit=10_000)) == sent  # a calendar is never answered


@pytest.mark.parametrize("client", CLIENTS)
def test_a_text_accept_after_the_cancellation_is_kept_and_answered_once(db, settings, invited, client):
    sent = cancelled(db, settings, invited)
    for n in range(2):
        raw = compose_reply(invitation(db, CAROL), CAROL, "Carol Cruz", "See you there!", client,
                            ARRIVES + timedelta(minutes=n))
        row = run_inbox(db, settings, raw, ARRIVES + timedelta(minutes=n))
        assert (row["state"], row["outcome"]) == ("done", "kept")
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"
    assert [(a["from"], a["answer"]) for a in details(db, invited)["late"]] == [(CAROL, "accepted")] * 2
    (told,) = outbox_store.list_rows(db, limit=10_000)[:len(outbox_store.list_rows(db, limit=10_000)) - sent]
    assert told["to_addr"] == CAROL and ":aftercancel:" in told["key"]
    assert b"was cancelled" in outbox_store.get_row(db, told["id"])["data"]
