"""The inbox gate: raw first, deduplicated, classified, routed by capability, never lost."""
from __future__ import annotations

import re
from datetime import timedelta
from email.utils import make_msgid

import pytest

from mailer import inbox, outbox, routing
from mailer.flows.base import PlannedEmail
from mailer.inbound.message import parse_message
from mailer.simulation.replies import compose_reply
from mailer.store import inbox as inbox_store
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox


@pytest.fixture
def community(db, settings, now):
    """Alice and Bob, and one email to Alice that expects a journal reply."""
    people.add_person(db, "alice@corp.example.com", "Alice Adams", "Europe/London")
    people.add_person(db, "bob@corp.example.com", "Bob Brown", "America/New_York")
    plan = PlannedEmail(key="test:ask:alice", to="alice@corp.example.com", subject="How was day 1?",
                        template="system/unrouted", context={"their_subject": "x"},
                        reply_purpose="journal", reply_ref="challenge:999:day:1")
    assert outbox.enqueue(db, [plan], now, settings) == 1
    return outbox_store.latest_to(db, "alice@corp.example.com")


def run_inbox(db, settings, now) -> inbox.InboxResult:
    result = inbox.InboxResult()
    inbox.receive(db, MaildirTransport(settings.mail_dir), now, settings, result)
    return result


def deliver(settings, raw: bytes) -> None:
    deliver_to_inbox(settings.mail_dir, raw)


def only_message(db) -> dict:
    rows = inbox_store.list_messages(db)
    assert len(rows) == 1
    return rows[0]


def test_reply_to_address_carries_a_token_bound_to_the_recipient(db, settings, community, now):
    msg = parse_message(community["data"])
    reply_to = msg.header("Reply-To")
    assert re.fullmatch(r"cop\+[a-z2-7]{20}@example\.test", reply_to)
    raw = compose_reply(community["data"], "alice@corp.example.com", "Alice", "Done!", "gmail", now)
    route = routing.route(db, parse_message(raw), settings.mailer_address, now)
    assert route.refused is None and route.via == "token" and route.person["email"] == "alice@corp.example.com"


def test_in_reply_to_routes_when_the_plus_address_was_dropped(db, settings, community, now):
    raw = compose_reply(community["data"], "alice@corp.example.com", "Alice", "Done!", "outlook", now)
    raw = re.sub(rb"cop\+[a-z2-7]+@", b"cop@", raw)
    route = routing.route(db, parse_message(raw), settings.mailer_address, now)
    assert route.refused is None and route.via == "in-reply-to"


def test_a_reference_found_only_in_the_body_asks_its_owner_instead_of_acting(db, settings, community, now):
    raw = compose_reply(community["data"], "alice@corp.example.com", "Alice", "Done!", "gmail", now)
    raw = re.sub(rb"cop\+[a-z2-7]+@", b"cop@", raw)
    raw = re.sub(rb"(In-Reply-To|References): <[^>]+>\r\n", b"", raw)
    route = routing.route(db, parse_message(raw), settings.mailer_address, now)
    assert route.via == "body-reference" and route.ask and "asked at their own address" in route.refused
    deliver(settings, raw)
    result = run_inbox(db, settings, now)
    assert only_message(db)["state"] == "ignored" and result.answers == 1
    question = outbox_store.latest_to(db, "alice@corp.example.com")
    assert question["key"].startswith("system:did-you-write:challenge:999:day:1:")
    # the question carries its own token for the same purpose: answering it is a real reply
    answer = parse_message(compose_reply(question["data"], "alice@corp.example.com", "Alice", "Done!", "apple", now))
    again = routing.route(db, answer, settings.mailer_address, now)
    assert (again.refused, again.via, again.token["ref"]) == (None, "token", "challenge:999:day:1")


def test_expired_token_is_refused(db, settings, community, now):
    raw = compose_reply(community["data"], "alice@corp.example.com", "Alice", "Done!", "gmail", now)
    later = now + timedelta(days=settings.tokens_ttl_days + 1)
    assert "expired" in routing.route(db, parse_message(raw), settings.mailer_address, later).refused


def test_forged_from_changes_nothing_and_answers_nobody(db, settings, community, now):
    raw = compose_reply(community["data"], "bob@corp.example.com", "Bob", "Approve", "gmail", now)
    deliver(settings, raw)
    before = outbox_store.counts(db)
    result = run_inbox(db, settings, now)
    row = only_message(db)
    assert row["state"] == "ignored" and "not the token's recipient" in row["reason"]
    assert result.answers == 0 and outbox_store.counts(db) == before


def test_unknown_token_changes_nothing_and_gets_one_answer_a_day(db, settings, community, now):
    for text in ("first", "second"):
        raw = (f"From: Alice <alice@corp.example.com>\r\nTo: cop+{'a' * 20}@example.test\r\n"
               f"Subject: hello\r\nMessage-ID: {make_msgid()}\r\n\r\n{text}\r\n").encode()
        deliver(settings, raw)
    result = run_inbox(db, settings, now)
    assert result.ignored == 2 and result.done == 0
    answers = [r for r in outbox_store.list_rows(db) if r["key"].startswith("system:unrouted:")]
    assert len(answers) == 1 and answers[0]["to_addr"] == "alice@corp.example.com"


def test_out_of_office_is_logged_never_acted_on(db, settings, community, now):
    raw = compose_reply(community["data"], "alice@corp.example.com", "Alice",
                        "I am out of the office until Monday.", "outlook", now)
    raw = raw.replace(b"Subject: RE:", b"Auto-Submitted: auto-replied\r\nSubject: Automatic reply:")
    deliver(settings, raw)
    before = outbox_store.counts(db)
    result = run_inbox(db, settings, now)
    row = only_message(db)
    assert (row["state"], row["kind"]) == ("ignored", "auto_reply")
    assert result.answers == 0 and outbox_store.counts(db) == before


def test_bounces_of_our_emails_raise_the_count_and_a_hard_one_stops_mail(db, settings, community, now):
    from tests.test_bounces import report, send_to

    to_bob = send_to(db, settings, now, "bob@corp.example.com", "Bob Brown")
    deliver(settings, report("bob@corp.example.com", "failed", "4.2.2",
                             returned=f"Message-ID: {to_bob['message_id']}"))
    run_inbox(db, settings, now)
    bob = people.find_person(db, "bob@corp.example.com")
    assert (bob["bounce_count"], bob["status"]) == (1, "active")
    deliver(settings, report("alice@corp.example.com", returned=f"Message-ID: {community['message_id']}"))
    run_inbox(db, settings, now)
    assert people.find_person(db, "alice@corp.example.com")["status"] == "bounced"
    plan = PlannedEmail(key="test:after-bounce", to="alice@corp.example.com", subject="s",
                        template="system/unrouted", context={"their_subject": ""})
    assert outbox.enqueue(db, [plan], now, settings) == 0


def test_the_same_message_twice_is_stored_once(db, settings, community, now):
    raw = compose_reply(community["data"], "bob@corp.example.com", "Bob", "hi", "gmail", now)
    deliver(settings, raw)
    deliver(settings, raw)
    result = run_inbox(db, settings, now)
    assert result.fetched == 1 and result.duplicates == 1
    assert run_inbox(db, settings, now).fetched == 0


def test_oversized_mail_is_quarantined_and_can_be_replayed(db, settings, community, now, home):
    raw = compose_reply(community["data"], "bob@corp.example.com", "Bob", "x" * 5000, "gmail", now)
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n[inbox]\nmax_bytes = 1000\n')
    from mailer.config import load_settings

    small = load_settings(home, env={})
    deliver(settings, raw)
    result = run_inbox(db, small, now)
    row = only_message(db)
    assert result.quarantined == 1 and "max_bytes" in row["reason"]
    assert inbox_store.get_message(db, row["id"])["raw"] == raw
    inbox.replay(db, row["id"])
    run_inbox(db, settings, now)
    assert only_message(db)["state"] == "ignored"  # Bob forging Alice's token: refused, not lost


def test_a_configured_alias_may_answer(db, settings, community, now):
    people.add_alias(db, people.find_person(db, "alice@corp.example.com")["id"], "Alice.Home@Mail.Example")
    raw = compose_reply(community["data"], "alice.home@mail.example", "Alice", "Done!", "gmail", now)
    route = routing.route(db, parse_message(raw), settings.mailer_address, now)
    assert route.refused is None and route.person["email"] == "alice@corp.example.com"
