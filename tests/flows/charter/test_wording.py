"""What a charter's emails and its digest entry say, as a person would write them (issue 21).

Driven end to end: raw replies in the Maildir inbox and ``worker.tick`` on an injected clock.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from mailer.flows.charter import lifecycle
from mailer.flows.charter.digest import digest_items
from tests.flows.charter.conftest import SUBMITTED, UTC, charter_toml
from tests.flows.charter.test_approvals import answer, bodies_to

H = timedelta(hours=1)
GOAL = 'goal = "A shared observability playbook for platform teams"'


def test_an_approver_who_asks_for_changes_reads_a_sentence_not_a_status(world, write_charter):
    cid = lifecycle.submit(world.db, write_charter(), SUBMITTED)
    world.tick(SUBMITTED)
    answer(world, "priya", "Approve", SUBMITTED + H)
    (first,) = bodies_to(world, "priya@", "Re:")
    assert ('Thank you: your approval of "Observability playbook" is recorded. '
            "1 of the 2 approvals it needs is in; you can change your answer until it is decided.") in first
    answer(world, "omar", "Changes needed: name a second sponsor", SUBMITTED + 2 * H, "outlook")
    (receipt,) = bodies_to(world, "omar@", "Re:")
    assert ('Thank you: your request for changes to "Observability playbook" is recorded: '
            '"name a second sponsor". The proposer will revise it, and you will be asked to approve the new '
            "version.") in receipt
    assert "Recorded: you asked for changes" not in receipt and "is changes requested" not in receipt
    (item,) = digest_items(world.db, "sponsor@corp.example.com", SUBMITTED, SUBMITTED + 3 * H)
    assert 'Omar Haddad asked for changes to version 1: "name a second sponsor"' in item.changed
    assert "The approvers asked for changes; the proposer is revising it." in item.changed
    assert item.status == "being revised"


def test_the_digest_dates_read_like_the_emails_dates(world, write_charter):
    lifecycle.submit(world.db, write_charter(), SUBMITTED)
    world.tick(SUBMITTED)
    (item,) = digest_items(world.db, "sponsor@corp.example.com", SUBMITTED, SUBMITTED + H)
    assert "Waiting for Priya Sharma, Omar Haddad (decision due Wed 20 Jan 2027)." in item.facts
    assert not any("2027-01-20" in fact for fact in item.facts)


def test_the_charter_and_the_digest_agree_on_the_hours_and_name_the_next_check_in(world, write_charter):
    lifecycle.submit(world.db, write_charter(), SUBMITTED)
    world.tick(SUBMITTED)
    (request,) = bodies_to(world, "priya@", "Approval requested")
    assert "3 people × 2 h/week × 8 weeks = 48 hours" in request and "Budget:       5,000 EUR" in request
    answer(world, "priya", "Approved", SUBMITTED + H)
    answer(world, "omar", "Approved", SUBMITTED + 2 * H)
    (item,) = digest_items(world.db, None, SUBMITTED, datetime(2027, 1, 11, 10, tzinfo=UTC))
    assert ("Team time: about 4 hours so far of the 48 hours planned (2 of 3 people on the team so far)."
            in item.facts), item.facts
    assert "Next check-in: Mon 18 Jan 2027." in item.facts


def test_charter_fields_in_markdown_read_without_marks(world, write_charter):
    goal = 'goal = "Start from our **Testing habits**; see [the wiki](https://wiki.test/obs)"'
    lifecycle.submit(world.db, write_charter(charter_toml().replace(GOAL, goal)), SUBMITTED)
    world.tick(SUBMITTED)
    (message,) = [m for m in world.sent() if "priya@" in str(m["To"])]
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert "Start from our Testing habits; see the wiki (https://wiki.test/obs)" in text and "**" not in text
    assert "<strong>Testing habits</strong>" in html and '<a href="https://wiki.test/obs">the wiki</a>' in html
