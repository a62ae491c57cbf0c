"""Issue 19, "What they meant" and "Replies to our own questions", through the real worker.

Replies that take themselves back, negate, hedge or disagree with themselves decide nothing and
get the one "approve or reject?" answer; a plain no is recorded. A reply to "please confirm your
answer" confirms what was held ("Yes"), disowns it ("No, that wasn't me": nothing recorded, the
proposer warned), or is a fresh answer.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.flows.charter import lifecycle
from mailer.simulation.replies import CLIENTS
from mailer.store import charters
from tests.flows.charter.conftest import SUBMITTED, charter_toml, keys, make_world
from tests.flows.charter.helpers import assert_explain_agrees

H = timedelta(hours=1)
PRIYA = "priya@corp.example.com"
AUTHSERV = "mx.corp.example.com"
PASS = f"{AUTHSERV}; spf=pass smtp.mailfrom=corp.example.com; dmarc=pass header.from=corp.example.com"
FAIL = f"{AUTHSERV}; spf=fail smtp.mailfrom=corp.example.com; dkim=none; dmarc=fail header.from=corp.example.com"

# Each of these approved (or, the last two, rejected) the charter before.
NOT_A_DECISION = [
    "Approved!!! (just joking)",
    "Approve... wait no",
    "Approve\n\nActually, reject: the budget is too high.",
    "Approve. NOT!",
    "approve j/k",
    "APPROVE. Sorry, wrong email.",
    "Approve (this was a test)",
    "Don't approve this yet - I want to read the budget section first.",
    "No, approve it",
]
PLAIN_NO = ["Nope", "Not approved", "I'm afraid I have to say no: the budget is too high for one quarter."]


def start(world, write_charter) -> int:
    cid = lifecycle.submit(world.db, write_charter(charter_toml(approvers=("priya",))), SUBMITTED)
    world.tick(SUBMITTED)
    return cid


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("text, recorded", [(t, []) for t in NOT_A_DECISION] + [(t, ["reject"]) for t in PLAIN_NO])
def test_only_a_reply_that_says_one_thing_decides(world, write_charter, text, recorded, client):
    """A reply that contradicts itself decides nothing and gets the one question; a plain no is recorded."""
    cid = start(world, write_charter)
    raw = world.reply(PRIYA, text, SUBMITTED + H, client)
    assert_explain_agrees(world.db, raw)
    assert [d["decision"] for d in charters.decisions(world.db, cid)] == recorded
    assert charters.get_charter(world.db, cid)["status"] == ("rejected" if recorded else "pending")
    assert len(keys(world.db, "answer:unclear")) == (0 if recorded else 1)


@pytest.fixture
def strict(home):
    return make_world(home, f'[approvals]\ntrusted_authserv_id = "{AUTHSERV}"\n')


def held(strict, write_charter, text: str) -> tuple[int, bytes]:
    """A forged ``text`` with a stolen token is held; returns the charter and the confirmation request."""
    cid = start(strict, write_charter)
    strict.reply(PRIYA, text, SUBMITTED + H, headers={"Authentication-Results": FAIL})
    (kept,) = charters.decisions(strict.db, cid)
    assert kept["held"]
    return cid, strict.latest(PRIYA, "Please confirm your answer")


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("text, held_text, decision, status", [
    ("Yes", "Reject: the budget is too high", "reject", "rejected"),  # "Yes" once approved a held rejection
    ("OK", "Reject: the budget is too high", "reject", "rejected"),
    ("Confirm", "Approved", "approve", "approved"),
    ("Yes, that was me.", "Approved", "approve", "approved"),
])
def test_yes_to_the_confirmation_confirms_what_was_held(strict, write_charter, text, held_text, decision, status,
                                                        client):
    cid, request = held(strict, write_charter, held_text)
    strict.reply(PRIYA, text, SUBMITTED + 2 * H, client, original=request)
    counted = [d for d in charters.decisions(strict.db, cid) if not d["held"]]
    assert [(d["decision"], d["comment"]) for d in counted] == [(decision, "the budget is too high" if
                                                                 decision == "reject" else "")]
    assert charters.get_charter(strict.db, cid)["status"] == status
    assert "confirmed by reply ('yes')" in counted[0]["auth"]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("text", ["No, that wasn't me.", "That was not me!", "Das war ich nicht."])
def test_that_wasnt_me_discards_the_held_answer_and_warns_the_proposer(strict, write_charter, text, client):
    cid, request = held(strict, write_charter, "Approved")
    strict.reply(PRIYA, text, SUBMITTED + 2 * H, client, original=request)
    (kept,) = charters.decisions(strict.db, cid)  # nothing new recorded, the held one kept for audit
    assert kept["held"] and kept["disowned"] and kept["decision"] == "approve"
    assert charters.get_charter(strict.db, cid)["status"] == "pending"
    (warning,) = [r for r in strict.rows_to("lead@corp.example.com") if "sending mail as" in r["subject"]]
    assert "Someone may be sending mail as Priya Sharma" in warning["subject"]
    assert len(keys(strict.db, "answer:disowned")) == 1
    # the disowned answer does not count as answered: the real approver still gets the reminder
    strict.walk(SUBMITTED + 3 * H, SUBMITTED + timedelta(days=16), timedelta(hours=6))
    assert keys(strict.db, "remind:person")


def test_a_bare_no_to_the_confirmation_is_asked_about_in_the_same_thread(strict, write_charter):
    cid, request = held(strict, write_charter, "Approved")
    strict.reply(PRIYA, "No", SUBMITTED + 2 * H, original=request)
    (kept,) = charters.decisions(strict.db, cid)
    assert kept["held"] and not kept["disowned"]
    assert len(keys(strict.db, "answer:unclear_held")) == 1
    question = strict.latest(PRIYA, "Re:")
    assert b"that wasn" in question.replace(b"=\r\n", b"")
    # the answer to that question is still read against the held answer
    strict.reply(PRIYA, "No, that wasn't me.", SUBMITTED + 3 * H, original=question)
    (kept,) = charters.decisions(strict.db, cid)
    assert kept["disowned"] and charters.get_charter(strict.db, cid)["status"] == "pending"


def test_a_yes_after_disowning_is_asked_about_in_the_request_thread(strict, write_charter):
    cid, request = held(strict, write_charter, "Reject: too broad")
    strict.reply(PRIYA, "It wasn't me", SUBMITTED + 2 * H, original=request)
    strict.reply(PRIYA, "Yes", SUBMITTED + 3 * H, original=request)
    assert [d for d in charters.decisions(strict.db, cid) if not d["held"]] == []
    (unclear,) = [r for r in strict.rows_to(PRIYA) if ":answer:unclear:" in r["key"]]
    strict.reply(PRIYA, "Approve", SUBMITTED + 4 * H, original=unclear["data"], headers={"Authentication-Results": PASS})
    assert charters.get_charter(strict.db, cid)["status"] == "approved"
    assert "dmarc=pass" in charters.decisions(strict.db, cid)[-1]["auth"]  # a fresh answer, not a confirmation


def test_anything_else_to_the_confirmation_is_a_fresh_answer(strict, write_charter):
    cid, request = held(strict, write_charter, "Approved")
    strict.reply(PRIYA, "Reject: on reflection the scope is too broad", SUBMITTED + 2 * H, original=request)
    counted = [d for d in charters.decisions(strict.db, cid) if not d["held"]]
    assert [d["decision"] for d in counted] == ["reject"]
    assert charters.get_charter(strict.db, cid)["status"] == "rejected"
