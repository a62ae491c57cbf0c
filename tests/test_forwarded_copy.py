"""A forwarded copy is not a key (issue 19): a sign-up or an RSVP found only by the "(Reference: …)"
line of the quoted email changes nothing and asks the person at their own address; the question
carries its own token, so answering it acts. (Approvals: tests/flows/charter/test_who_wrote_it.py.)"""
from __future__ import annotations

import re

import pytest

from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import outbox as outbox_store
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.call.conftest import AIKO
from tests.flows.call.test_e2e import world  # noqa: F401 (a fixture)
from tests.flows.meetup.test_rsvp import ARRIVES, CAROL, answer_of, invitation, invited, run_inbox  # noqa: F401


def without_reply_headers(raw: bytes) -> bytes:
    """What survives forwarding: no token in the address, no In-Reply-To/References."""
    raw = re.sub(rb"cop\+[a-z2-7]+@", b"cop@", raw)
    return re.sub(rb"(In-Reply-To|References): <[^>]+>\r\n", b"", raw)


def questions_to(db, address: str) -> list[dict]:
    return [r for r in outbox_store.list_rows(db, limit=1000)
            if r["to_addr"] == address and r["key"].startswith("system:did-you-write:")]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_sign_up_on_a_forwarded_copy_asks_instead(world, client):
    original = world.last_mail(AIKO, "Volunteers wanted")
    raw = compose_reply(original, AIKO, "Aiko Tanaka", "Count me in as a writer", client, world.now)
    deliver_to_inbox(world.settings.mail_dir, without_reply_headers(raw))
    world.tick()
    assert world.roles() == {}
    (question,) = questions_to(world.db, AIKO)
    data = outbox_store.get_row(world.db, question["id"])["data"]
    deliver_to_inbox(world.settings.mail_dir, compose_reply(data, AIKO, "Aiko Tanaka", "Count me in as a writer",
                                                            client, world.now))
    world.tick()
    assert world.roles() == {"writer": [(AIKO, "confirmed")]}


@pytest.mark.parametrize("client", CLIENTS)
def test_an_rsvp_on_a_forwarded_copy_asks_instead(db, settings, invited, client):
    raw = compose_reply(invitation(db, CAROL), CAROL, "Carol Cruz", "See you there!", client, ARRIVES)
    row = run_inbox(db, settings, without_reply_headers(raw))
    assert row["state"] == "ignored" and "is asked at their own address" in row["reason"]
    assert answer_of(db, invited, CAROL)["answer"] == "needs-action"
    (question,) = questions_to(db, CAROL)
    data = outbox_store.get_row(db, question["id"])["data"]
    run_inbox(db, settings, compose_reply(data, CAROL, "Carol Cruz", "See you there!", client, ARRIVES))
    assert answer_of(db, invited, CAROL)["answer"] == "accepted"
