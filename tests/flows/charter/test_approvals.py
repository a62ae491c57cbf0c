"""Approval by reply, end to end: raw replies in the Maildir inbox, ``worker.tick`` on an injected
clock, the real outbox and templates. Every reply is also run through ``explain --context approval``,
which must agree with what the flow did."""
from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.flows.charter import lifecycle
from mailer.store import charters
from tests.flows.charter.conftest import SUBMITTED, charter_toml, keys
from tests.flows.charter.helpers import assert_explain_agrees

H = timedelta(hours=1)


def submit(world, write_charter, **kwargs) -> int:
    charter_id = lifecycle.submit(world.db, write_charter(charter_toml(**kwargs)), SUBMITTED)
    world.tick(SUBMITTED)
    return charter_id


def answer(world, who: str, text: str, at, client: str = "gmail", **kwargs) -> bytes:
    raw = world.reply(f"{who}@corp.example.com", text, at, client, **kwargs)
    assert_explain_agrees(world.db, raw)
    return raw


def status(world, charter_id: int) -> str:
    return charters.get_charter(world.db, charter_id)["status"]


def bodies_to(world, address: str, subject_part: str) -> list[str]:
    return [m.get_body(("plain",)).get_content() for m in world.sent()
            if address in str(m["To"]) and subject_part in str(m["Subject"])]


def test_the_request_shows_the_whole_charter_and_how_to_answer(world, write_charter):
    submit(world, write_charter)
    text = bodies_to(world, "priya@", "Approval requested")[0]
    for part in ("A shared observability playbook", "Three platform teams", "Out of scope: Tracing",
                 "3 people × 2 h/week × 8 weeks = 48 hours", "5,000 EUR", "Approve", "Reject: your reason",
                 "Changes needed: what should change", "Wed 20 Jan 2027", "all approvers must approve"):
        assert part in text, part
    assert len(bodies_to(world, "omar@", "Approval requested")) == 1


def test_all_two_approve_then_one_rejects_is_rejected_and_everyone_hears_why(world, write_charter):
    cid = submit(world, write_charter, approvers=("priya", "omar", "kenji"))
    answer(world, "priya", "Approved", SUBMITTED + H, "outlook")
    answer(world, "omar", "Approve: good scope", SUBMITTED + 2 * H, "apple")
    assert status(world, cid) == "pending"
    answer(world, "kenji", "Reject: the team is already overloaded this quarter", SUBMITTED + 3 * H)
    assert status(world, cid) == "rejected"
    for who in ("lead@", "alice@", "bob@", "sponsor@"):
        (body,) = bodies_to(world, who, "rejected")
        assert "Kenji Sato rejected" in body and "the team is already overloaded" in body
        assert "Priya Sharma approved" in body


@pytest.mark.parametrize("rule, answers, expected", [
    ('"majority"', [("priya", "Approve"), ("omar", "Approve")], "approved"),
    ('"majority"', [("priya", "Approve"), ("omar", "Reject: no")], "pending"),
    ('"majority"', [("priya", "Reject: no"), ("omar", "Reject: no")], "rejected"),
    ('"any"', [("priya", "Reject: no"), ("omar", "Approve")], "approved"),
    ('"any"', [("priya", "Reject: no"), ("omar", "Reject: no"), ("kenji", "No.")], "rejected"),
    ("2", [("kenji", "Approved")], "pending"),
    ("2", [("kenji", "Approved"), ("priya", "Genehmigt")], "approved"),
    ("2", [("kenji", "Reject: no"), ("priya", "Nope")], "rejected"),
])
def test_each_rule_decides(world, write_charter, rule, answers, expected):
    cid = submit(world, write_charter, approvers=("priya", "omar", "kenji"), rule=rule)
    for n, (who, text) in enumerate(answers, start=1):
        answer(world, who, text, SUBMITTED + n * H)
    assert status(world, cid) == expected


def test_the_rule_met_tells_the_others_they_need_not_answer(world, write_charter):
    cid = submit(world, write_charter, approvers=("priya", "omar", "kenji"), rule='"any"')
    answer(world, "omar", "Approved", SUBMITTED + H)
    assert status(world, cid) == "approved"
    assert keys(world.db, "notneeded") and len(bodies_to(world, "kenji@", "no need to answer")) == 1
    assert bodies_to(world, "omar@", "no need to answer") == []


def test_an_approver_may_change_their_answer_until_decided(world, write_charter):
    cid = submit(world, write_charter, approvers=("priya", "omar", "kenji"), rule='"majority"')
    answer(world, "priya", "Reject: too broad", SUBMITTED + H)
    answer(world, "priya", "Approved. On reflection the scope is fine.", SUBMITTED + 2 * H)
    answer(world, "omar", "Approved", SUBMITTED + 3 * H)
    assert status(world, cid) == "approved"
    assert [d["decision"] for d in charters.decisions(world.db, cid)] == ["reject", "approve", "approve"]


def test_changes_then_revise_then_version_two_approved(world, write_charter, tmp_path):
    cid = submit(world, write_charter)
    answer(world, "priya", "Approve", SUBMITTED + H)
    answer(world, "omar", "Changes needed:\n- cut the hours to 1 a week\n- name a second sponsor", SUBMITTED + 2 * H,
           "outlook")
    assert status(world, cid) == "changes_requested"
    (back,) = bodies_to(world, "lead@", "changes requested")
    assert "cut the hours to 1 a week" in back and "charter revise" in back
    version, changed = lifecycle.revise(world.db, cid, write_charter(charter_toml(hours=1), "v2.toml"),
                                        SUBMITTED + 3 * H)
    assert version == 2 and changed == ["Hours per week: 2 → 1"]
    world.tick(SUBMITTED + 3 * H)
    request = bodies_to(world, "priya@", "(version 2)")[0]
    assert "Hours per week: 2 → 1" in request and "3 people × 1 h/week × 8 weeks = 24 hours" in request
    answer(world, "omar", "Approved, thanks for the change", SUBMITTED + 4 * H, subject_part="(version 2)")
    assert status(world, cid) == "pending"  # Priya's approval of version 1 does not count
    answer(world, "priya", "Approved", SUBMITTED + 5 * H, subject_part="(version 2)")
    assert status(world, cid) == "approved"
    shown = {(d["approver"], d["version"], d["decision"]) for d in charters.decisions(world.db, cid)}
    assert ("priya@corp.example.com", 1, "approve") in shown and ("priya@corp.example.com", 2, "approve") in shown


def test_an_answer_to_the_old_version_is_not_counted(world, write_charter):
    cid = submit(world, write_charter)
    answer(world, "omar", "Changes needed: fewer hours", SUBMITTED + H)
    lifecycle.revise(world.db, cid, write_charter(charter_toml(hours=1), "v2.toml"), SUBMITTED + 2 * H)
    world.tick(SUBMITTED + 2 * H)
    old = world.rows_to("priya@corp.example.com")[0]["data"]
    before = len(world.rows_to("priya@corp.example.com"))
    world.reply("priya@corp.example.com", "Approve", SUBMITTED + 3 * H, original=old)
    assert charters.decisions(world.db, cid, 2) == []
    rows = world.rows_to("priya@corp.example.com")
    assert len(rows) == before + 1 and "Re: Approval requested" in rows[-1]["subject"]
    assert b"revised to version 2" in rows[-1]["data"].replace(b"=\r\n", b"")


CLIENT_STYLES = [
    ("outlook", "Approved - go ahead.\n\nBest regards,\nPriya Sharma\nHead of Platform | Corp\n+91 80 0000 0000"),
    ("gmail", "Approve: nice, tight scope\n\n-- \nPriya Sharma\nhttps://corp.example.com/priya"),
    ("apple", "Approved.\n\nSent from my iPhone"),
]


@pytest.mark.parametrize("client, text", CLIENT_STYLES)
def test_replies_in_each_client_style_with_signatures(world, write_charter, client, text):
    cid = submit(world, write_charter, approvers=("priya",))
    answer(world, "priya", text, SUBMITTED + H, client)
    (decision,) = charters.decisions(world.db, cid)
    assert decision["decision"] == "approve" and "Sharma" not in decision["comment"]
    assert "iPhone" not in decision["comment"] and status(world, cid) == "approved"


LANGUAGES = [("English", "I approve"), ("German", "Genehmigt: gute Arbeit"), ("French", "Approuvé"),
             ("Spanish", "Sí, aprobado"), ("Portuguese", "Aprovado: bom trabalho"), ("Italian", "Lo approvo"),
             ("Dutch", "Akkoord")]


@pytest.mark.parametrize("language, text", LANGUAGES)
def test_approvals_in_many_languages(world, write_charter, language, text):
    cid = submit(world, write_charter, approvers=("priya",))
    answer(world, "priya", text, SUBMITTED + H, "apple")
    assert status(world, cid) == "approved", language


REJECTIONS = [("Abgelehnt: kein Budget", "reject"), ("Refusé", "reject"),
              ("Rechazado: demasiado amplio", "reject"), ("Modifiche necessarie: meno ambito", "request_changes"),
              ("Wijzigingen nodig: kleinere scope", "request_changes")]


@pytest.mark.parametrize("text, decision", REJECTIONS)
def test_rejections_and_changes_in_many_languages(world, write_charter, text, decision):
    cid = submit(world, write_charter, approvers=("priya",))
    answer(world, "priya", text, SUBMITTED + H, "outlook")
    assert status(world, cid) == {"reject": "rejected", "request_changes": "changes_requested"}[decision]
