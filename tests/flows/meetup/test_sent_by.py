"""An iTIP REPLY counts only for the attendee who sent it (issue 19, "SENT-BY answers for anyone").

SENT-BY and DELEGATED-FROM are written by whoever sends the calendar answer, so they prove
nothing: an answer whose ATTENDEE is not the mail's sender (or the sender's alias) is kept for
the organiser, unattributed, and nobody's answer changes. Replies are written as Outlook, Google
Calendar and Apple Calendar write them (``mailer.simulation.calendar_client``).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailer import routing
from mailer.cli.meetup import details
from mailer.inbound.message import parse_message
from mailer.simulation import calendar_client
from tests.flows.meetup.test_rsvp import (ALICE, ARRIVES, BOB, CAROL, DAN, answer_of, invitation,  # noqa: F401
                                          invited, run_inbox, sample)

LATER = ARRIVES + timedelta(hours=1)
CLIENTS = ("outlook", "gmail", "apple")


def answer(db, attendee: str, partstat: str, client: str, now, sent_by: str | None = None) -> bytes:
    """``attendee``'s calendar answer to their invitation, sent by ``sent_by`` when given."""
    inv = calendar_client.read_invitation(invitation(db, attendee))
    return calendar_client.reply(inv, client, attendee, "Carol Cruz", partstat, "", now, sent_by=sent_by)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_stranger_naming_himself_in_sent_by_changes_no_answer(db, settings, invited, client):
    run_inbox(db, settings, answer(db, CAROL, "ACCEPTED", client, ARRIVES))
    assert answer_of(db, invited, CAROL)["answer"] == "accepted"
    row = run_inbox(db, settings, answer(db, CAROL, "DECLINED", client, LATER, sent_by="evil@attacker.example"), LATER)
    assert row["state"] == "ignored" and "sent by evil@attacker.example" in row["reason"]
    assert "kept for the organiser, unattributed" in row["reason"]
    assert answer_of(db, invited, CAROL)["answer"] == "accepted"
    (kept,) = details(db, invited)["unattributed"]
    assert (kept["from"], kept["answer"]) == (CAROL, "declined")


@pytest.mark.parametrize("client", CLIENTS)
def test_an_invitee_cannot_decline_for_another_invitee(db, settings, invited, client):
    row = run_inbox(db, settings, answer(db, CAROL, "DECLINED", client, ARRIVES, sent_by=DAN))
    assert row["state"] == "ignored" and f"sent by {DAN}" in row["reason"]
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"
    assert answer_of(db, invited, DAN)["answer"] == "needs-action"


def test_an_answer_sent_from_the_attendees_own_alias_counts(db, settings, invited):
    raw = answer(db, ALICE, "DECLINED", "apple", ARRIVES, sent_by="alice.adams@gmail.com")
    row = run_inbox(db, settings, raw)
    assert row["state"] == "done" and answer_of(db, invited, ALICE)["answer"] == "declined"


def test_our_own_invitation_sent_back_is_no_calendar_answer(db, settings, invited):
    # A REQUEST carries the meetup's UID too, from the invitee; only a REPLY or COUNTER is routed by it.
    carol = f"From: Carol Cruz <{CAROL}>\r\n".encode()
    forwarded = re.sub(rb"(?m)^From: .*\r\n", carol, invitation(db, CAROL), count=1)
    msg = parse_message(forwarded)
    assert msg.calendar_method == "REQUEST" and msg.from_addr == CAROL
    assert routing.calendar_route(db, msg) is None
    accepted = parse_message(answer(db, CAROL, "ACCEPTED", "gmail", ARRIVES))
    assert routing.calendar_route(db, accepted).person["email"] == CAROL


def test_a_reply_without_a_uid_is_not_placed(db, settings, invited):
    raw = answer(db, CAROL, "DECLINED", "apple", ARRIVES)
    msg = parse_message(raw)
    assert msg.calendar and "UID:" in msg.calendar
    no_uid = raw.replace(b"UID:", b"X-UID:")
    row = run_inbox(db, settings, no_uid)
    assert row["state"] == "ignored" and "event we do not know (UID (none))" in row["reason"]
    assert row["outcome"] == "kept"  # for the organiser; a calendar client is never answered
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"


def test_in_googles_copy_of_the_guest_list_the_senders_own_entry_answers(db, settings, invited):
    # Google copies every guest into its REPLY; another guest's entry may carry an answer too.
    raw = sample("google_accept.eml").replace(b"PARTSTAT=NEEDS-ACTION;CN=Bob", b"PARTSTAT=DECLINED;CN=Bob")
    raw = raw.replace(b';X-RESPONSE-COMMENT="Looking forward to it, bringing a\n  colleague"', b"")
    row = run_inbox(db, settings, raw)
    assert row["state"] == "done" and "route: calendar-uid" in row["rule"]
    assert answer_of(db, invited, ALICE)["answer"] == "accepted"
    assert answer_of(db, invited, BOB)["answer"] == "needs-action"


def test_what_is_kept_for_the_organiser_says_how_it_was_found(db, settings, invited):
    row = run_inbox(db, settings, answer(db, CAROL, "DECLINED", "outlook", ARRIVES, sent_by=DAN))
    assert row["rule"] == "route: calendar-uid"
    found = routing.calendar_route(db, parse_message(answer(db, CAROL, "DECLINED", "apple", LATER, sent_by=DAN)))
    assert (found.via, found.keep, found.person, found.token["person_id"]) == ("calendar-uid", True, None, None)
    assert found.token["ref"] == f"meetup:{invited}"
