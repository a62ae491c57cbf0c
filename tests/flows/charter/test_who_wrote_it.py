"""Who wrote an approval (issue 19, "Who wrote it"), through the real worker.

The sender is the one address the standard parser finds in the raw From header, never text in a
decoded display name; a From that names nobody (two From headers, not one address) acts for
nobody; and a reply found only by the reference printed in its body (which a forwarded copy
carries too) asks the approver at their own address instead of deciding anything, whatever
``trusted_authserv_id`` says.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailer import routing
from mailer.inbound.explain import describe, explain
from mailer.inbound.message import parse_message
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import charters
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.charter.conftest import SUBMITTED, make_world
from tests.flows.charter.helpers import assert_explain_agrees
from tests.flows.charter.test_bad_replies import AUTHSERV, PASS, start

H = timedelta(hours=1)
PRIYA, BOB = "priya@corp.example.com", "bob@corp.example.com"
# Bob's From, with a display name that decodes to "Priya Sharma <priya@corp.example.com>"
IMPERSONATING = "=?utf-8?q?Priya_Sharma_=3Cpriya=40corp=2Eexample=2Ecom=3E?= <bob@corp.example.com>"


@pytest.fixture
def strict(home):
    return make_world(home, f'[approvals]\ntrusted_authserv_id = "{AUTHSERV}"\n')


def with_from(raw: bytes, *values: str) -> bytes:
    """``raw`` with its From header replaced by ``values`` (one From header each)."""
    head, body = raw.split(b"\r\n\r\n", 1)
    head = re.sub(rb"(?m)^From:.*\r\n(?:[ \t].*\r\n)*", b"", head + b"\r\n")
    return head + b"".join(b"From: " + v.encode() + b"\r\n" for v in values) + b"\r\n" + body


def deliver(world, raw: bytes, now) -> dict:
    """Drop ``raw`` into the Maildir, tick, and return its inbox row."""
    deliver_to_inbox(world.settings.mail_dir, raw)
    world.tick(now)
    return next(world.db.query("SELECT * FROM inbox ORDER BY id DESC LIMIT 1"))


def routed(world, raw: bytes, now) -> dict:
    """``explain`` of ``raw`` with this home's routing, as ``run.py explain`` gives it."""
    def router(msg):
        return routing.describe(routing.route(world.db, msg, world.settings.mailer_address, now))
    return explain(raw, "approval", router=router)


def priyas_reply(world, text: str, client: str, now) -> bytes:
    return compose_reply(world.latest(PRIYA), PRIYA, "Priya Sharma", text, client, now)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_display_name_that_decodes_to_an_address_is_never_the_sender(strict, write_charter, client):
    cid = start(strict, write_charter, approvers=("priya",))
    raw = with_from(priyas_reply(strict, "Approved", client, SUBMITTED + H), IMPERSONATING)
    raw = b"Authentication-Results: " + PASS.encode() + b"\r\n" + raw  # Bob's own domain passes DMARC
    seen = routed(strict, raw, SUBMITTED + H)
    assert seen["from"] == BOB and "from:    bob@corp.example.com" in describe(seen)
    row = deliver(strict, raw, SUBMITTED + H)
    assert row["state"] == "ignored" and f"sender {BOB} is not the token's recipient" in row["reason"]
    assert charters.get_charter(strict.db, cid)["status"] == "pending"
    assert charters.decisions(strict.db, cid) == []


@pytest.mark.parametrize("froms, problem", [
    ((f"Priya Sharma <{PRIYA}>", f"Priya Sharma <{PRIYA}>"), "2 From headers"),
    ((f"{PRIYA})<evil@attacker.example>",), "From does not hold exactly one address"),
    ((f"{PRIYA}, evil@attacker.example",), "From does not hold exactly one address"),
    (("Priya Sharma",), "From does not hold exactly one address"),
])
def test_a_from_that_names_nobody_acts_for_nobody_and_is_kept_with_its_reason(world, write_charter, froms, problem):
    cid = start(world, write_charter, approvers=("priya",))
    raw = with_from(priyas_reply(world, "Approved", "outlook", SUBMITTED + H), *froms)
    seen = routed(world, raw, SUBMITTED + H)
    assert seen["from"] == "" and seen["from_problem"].startswith(problem)
    assert f"from:    nobody ({problem}" in describe(seen) and seen["outcome"].startswith("refused:")
    rows_before = len(world.rows_to(PRIYA))
    row = deliver(world, raw, SUBMITTED + H)
    assert row["state"] == "ignored" and problem in row["reason"] and "acts for nobody" in row["reason"]
    assert charters.get_charter(world.db, cid)["status"] == "pending" and charters.decisions(world.db, cid) == []
    assert len(world.rows_to(PRIYA)) == rows_before  # nobody is answered: the From may be forged


def forwarded_copy(world, text: str, client: str, now) -> bytes:
    """An approval written on a forwarded copy of Priya's request: spoofed From, no token in the
    address, no In-Reply-To/References; only the "(Reference: …)" line of the quoted request."""
    raw = priyas_reply(world, text, client, now)
    raw = re.sub(rb"cop\+[a-z2-7]+@", b"cop@", raw)
    raw = re.sub(rb"(In-Reply-To|References): <[^>]+>\r\n", b"", raw)
    assert re.search(r"\(Reference: [a-z2-7]{10}\)", parse_message(raw).text)
    return raw


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("trusted", [False, True])
def test_a_reference_found_only_in_the_body_asks_the_approver_instead_of_approving(
        home, write_charter, client, trusted):
    world = make_world(home, f'[approvals]\ntrusted_authserv_id = "{AUTHSERV}"\n' if trusted else "")
    cid = start(world, write_charter, approvers=("priya",))
    raw = forwarded_copy(world, "Approved", client, SUBMITTED + H)
    raw = b"Authentication-Results: " + PASS.encode() + b"\r\n" + raw  # whatever it says
    seen = routed(world, raw, SUBMITTED + H)
    assert seen["route"]["via"] == "body-reference" and seen["outcome"].startswith("refused: found only by")
    row = deliver(world, raw, SUBMITTED + H)
    assert row["state"] == "ignored" and "is asked at their own address" in row["reason"]
    assert charters.get_charter(world.db, cid)["status"] == "pending" and charters.decisions(world.db, cid) == []
    (question,) = [r for r in world.rows_to(PRIYA) if "Did you write this?" in r["subject"]]
    # Priya answers the question: its own token makes her answer count
    answer = world.reply(PRIYA, "Approve", SUBMITTED + 2 * H, client,
                         original=question["data"], headers={"Authentication-Results": PASS})
    assert_explain_agrees(world.db, answer)
    assert charters.get_charter(world.db, cid)["status"] == "approved"


def test_the_question_goes_once_a_day_to_the_token_owner_not_to_the_from(world, write_charter):
    start(world, write_charter, approvers=("priya",))
    for n in (1, 2):
        raw = with_from(forwarded_copy(world, "Approved", "gmail", SUBMITTED + n * H), f"Priya <{PRIYA}>")
        deliver(world, raw, SUBMITTED + n * H)
    questions = [r for r in world.db.query("SELECT * FROM outbox") if r["key"].startswith("system:did-you-write:")]
    assert [q["to_addr"] for q in questions] == [PRIYA]
