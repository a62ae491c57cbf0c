"""What must change nothing: a forged From with a stolen token, an out-of-office, a bounce, a
reply after the decision, a question. Each earns one answer at most; none decides anything.
With ``approvals.trusted_authserv_id`` set, only our server's DMARC / aligned DKIM pass counts."""
from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.flows.charter import lifecycle
from mailer.inbound.authresults import check
from mailer.inbound.explain import explain
from mailer.simulation.replies import compose_reply
from mailer.store import charters, people
from mailer.store import inbox as inbox_store
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.charter.conftest import SUBMITTED, charter_toml, make_world
from tests.flows.charter.helpers import assert_explain_agrees, dsn

H = timedelta(hours=1)
PRIYA = "priya@corp.example.com"
AUTHSERV = "mx.corp.example.com"


def start(world, write_charter, approvers=("priya", "omar")) -> int:
    charter_id = lifecycle.submit(world.db, write_charter(charter_toml(approvers=approvers)), SUBMITTED)
    world.tick(SUBMITTED)
    return charter_id


def snapshot(world, cid: int) -> tuple:
    c = charters.get_charter(world.db, cid)
    return c["status"], c["version"], len(charters.decisions(world.db, cid))


def test_a_question_changes_nothing_and_gets_one_answer(world, write_charter):
    cid = start(world, write_charter)
    before = snapshot(world, cid)
    raw = world.reply(PRIYA, "Looks interesting, who else is reviewing?", SUBMITTED + H)
    world.reply(PRIYA, "Looks interesting, who else is reviewing?\nAnd when?", SUBMITTED + 2 * H,
                subject_part="Approval requested")
    assert snapshot(world, cid) == before and explain(raw, "approval")["intent"] == "unclear"
    assert_explain_agrees(world.db, raw)
    answers = [r for r in world.rows_to(PRIYA) if r["subject"].startswith("Re:")]
    assert len(answers) == 1 and b"approve" in answers[0]["data"].lower()


def test_a_forged_from_with_a_stolen_token_is_refused_without_an_answer(world, write_charter):
    cid = start(world, write_charter)
    before, rows = snapshot(world, cid), len(list(world.db.query("SELECT * FROM outbox")))
    people.add_person(world.db, "mallory@evil.example.net", "Mallory", "UTC")
    raw = world.reply(PRIYA, "Approved", SUBMITTED + H, sender="mallory@evil.example.net")
    assert snapshot(world, cid) == before
    assert len(list(world.db.query("SELECT * FROM outbox"))) == rows  # nobody is answered
    assert explain(raw, "approval")["intent"] == "approve"  # read as an approval, refused by routing


def test_an_out_of_office_changes_nothing_and_is_never_answered(world, write_charter):
    cid = start(world, write_charter)
    before, rows = snapshot(world, cid), len(world.rows_to(PRIYA))
    raw = world.reply(PRIYA, "I am out of the office until Monday. Approved requests wait until then.",
                      SUBMITTED + H, "outlook", headers={"Auto-Submitted": "auto-replied"})
    assert snapshot(world, cid) == before and len(world.rows_to(PRIYA)) == rows
    assert explain(raw, "approval")["kind"] == "auto_reply"
    assert_explain_agrees(world.db, raw)


def test_a_bounce_changes_nothing_and_is_never_answered(world, write_charter):
    cid = start(world, write_charter)
    before, rows = snapshot(world, cid), len(world.rows_to(PRIYA))
    raw = dsn(world.latest(PRIYA), PRIYA, SUBMITTED + H)
    deliver_to_inbox(world.settings.mail_dir, raw)
    world.tick(SUBMITTED + H)
    assert snapshot(world, cid) == before and len(world.rows_to(PRIYA)) == rows
    assert explain(raw, "approval")["kind"] == "bounce"
    assert_explain_agrees(world.db, raw)


def test_a_reply_after_the_decision_changes_nothing_and_gets_one_answer(world, write_charter):
    cid = start(world, write_charter)
    world.reply(PRIYA, "Approve", SUBMITTED + H)
    world.reply("omar@corp.example.com", "Reject: no budget", SUBMITTED + 2 * H)
    assert charters.get_charter(world.db, cid)["status"] == "rejected"
    before, rows = snapshot(world, cid), len(world.rows_to(PRIYA))
    original = world.rows_to(PRIYA)[0]["data"]
    for n in (3, 4, 30):  # the same day and days later: one answer in all
        raw = world.reply(PRIYA, "Approved, definitely", SUBMITTED + n * H, original=original)
        assert explain(raw, "approval")["intent"] == "approve"
    assert snapshot(world, cid) == before
    late = world.rows_to(PRIYA)[rows:]
    assert len(late) == 1 and b"already decided" in late[0]["data"].replace(b"=\r\n", b"")


@pytest.mark.parametrize("late, told", [
    ("sponsor", b"was not approved"),  # one who hears the outcome: the outcome says it, once
    ("kenji", b"already decided"),  # an approver only: "already decided", and no "no need to answer"
])
def test_a_late_answer_on_a_decided_charter_gets_one_email(world, write_charter, late, told):
    cid = start(world, write_charter, approvers=("priya", "omar", late))
    address = f"{late}@corp.example.com"
    before = len(world.rows_to(address))
    # The deciding "Reject" and the late "Approve" arrive together: handled in one tick, in order.
    for sender, text in (("omar@corp.example.com", "Reject: no budget this year"), (address, "Approve")):
        person = people.find_person(world.db, sender)
        deliver_to_inbox(world.settings.mail_dir, compose_reply(world.latest(sender), sender, person["name"],
                                                                text, "outlook", SUBMITTED + H))
    world.tick(SUBMITTED + H)
    world.tick(SUBMITTED + 2 * H)
    assert charters.get_charter(world.db, cid)["status"] == "rejected"
    (answer,) = world.rows_to(address)[before:]
    body = answer["data"].replace(b"=\r\n", b"")
    assert told in body and b"not recorded" in body
    assert [row["outcome"] for row in inbox_store.list_messages(world.db)] == ["answer", "change"]


# -- Authentication-Results -------------------------------------------------------------------

PASS = f"{AUTHSERV}; spf=pass smtp.mailfrom=corp.example.com; dkim=pass header.d=corp.example.com; dmarc=pass header.from=corp.example.com"
FAIL = f"{AUTHSERV}; spf=fail smtp.mailfrom=corp.example.com; dkim=none; dmarc=fail header.from=corp.example.com"


@pytest.mark.parametrize("values, passed", [
    ([PASS], True),
    ([FAIL], False),
    ([], False),
    ([PASS.replace(AUTHSERV, "mx.evil.example.net")], False),  # someone else's server: not trusted
    ([FAIL, PASS], False),  # a forged "pass" below ours does not count
    ([f"{AUTHSERV}; dkim=pass header.d=mail.corp.example.com; dmarc=none"], True),  # aligned DKIM
    ([f"{AUTHSERV}; dkim=pass header.d=evil.example.net; dmarc=none"], False),  # unaligned DKIM
    ([f"{AUTHSERV} 1; dmarc=pass (p=reject dis=none) header.from=corp.example.com"], True),
])
def test_only_our_servers_dmarc_or_aligned_dkim_pass_counts(values, passed):
    assert check(values, AUTHSERV, PRIYA).passed is passed


@pytest.fixture
def strict(home):
    return make_world(home, f'[approvals]\ntrusted_authserv_id = "{AUTHSERV}"\n')


def test_with_a_trusted_server_a_passing_approval_counts(strict, write_charter):
    cid = start(strict, write_charter, approvers=("priya",))
    raw = strict.reply(PRIYA, "Approved", SUBMITTED + H, headers={"Authentication-Results": PASS})
    assert_explain_agrees(strict.db, raw)
    (decision,) = charters.decisions(strict.db, cid)
    assert not decision["held"] and "dmarc=pass" in decision["auth"]
    assert charters.get_charter(strict.db, cid)["status"] == "approved"


def test_a_forged_from_with_a_stolen_token_is_held_until_the_real_approver_confirms(strict, write_charter):
    cid = start(strict, write_charter, approvers=("priya",))
    stolen = strict.latest(PRIYA)
    forged = strict.reply(PRIYA, "Approved", SUBMITTED + H, original=stolen, headers={"Authentication-Results": FAIL})
    assert_explain_agrees(strict.db, forged)
    (held,) = charters.decisions(strict.db, cid)
    assert held["held"] and "no DMARC or aligned DKIM pass" in held["auth"]
    assert charters.get_charter(strict.db, cid)["status"] == "pending"
    confirm = [r for r in strict.rows_to(PRIYA) if r["subject"].startswith("Please confirm your answer")]
    assert len(confirm) == 1  # the one answer goes to the real approver's own address
    # the forger tries again with the stolen token: still held, no second confirmation request
    strict.reply(PRIYA, "Approve", SUBMITTED + 2 * H, original=stolen)
    assert charters.get_charter(strict.db, cid)["status"] == "pending"
    assert len([r for r in strict.rows_to(PRIYA) if r["subject"].startswith("Please confirm your answer")]) == 1
    # the real approver answers the confirmation request (a token only they received)
    strict.reply(PRIYA, "Approve", SUBMITTED + 3 * H, original=confirm[0]["data"])
    assert charters.get_charter(strict.db, cid)["status"] == "approved"
    assert "confirmed by reply" in charters.decisions(strict.db, cid)[-1]["auth"]
