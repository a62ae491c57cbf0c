"""The charter commands on a real home folder, under the real main group."""
from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner

from mailer.cli import main
from tests.flows.charter.conftest import SUBMITTED, charter_toml

NOW = "2027-01-04T10:00:00Z"


def run(home, *args: str, ok: bool = True):
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_submit_check_list_show_revise_withdraw(world, write_charter):
    home, path = world.home, write_charter()
    checked = run(home, "charter", "submit", str(path), "--check", "--now", NOW)
    assert "valid" in checked.output and "3 people × 2 h/week × 8 weeks = 48 hours" in checked.output
    assert "(no charters)" in run(home, "charter", "list").output
    assert "submitted charter 1" in run(home, "charter", "submit", str(path), "--now", NOW).output
    assert "pending" in run(home, "charter", "list").output
    world.tick(SUBMITTED)
    world.reply("omar@corp.example.com", "Changes needed: one hour a week is enough", SUBMITTED + timedelta(hours=1))
    data = json.loads(run(home, "charter", "show", "1", "--json").output)
    assert (data["status"], data["version"]) == ("changes_requested", 1)
    (decision,) = data["decisions"]
    assert decision["approver"] == "omar@corp.example.com" and decision["decision"] == "request_changes"
    assert decision["comment"] == "one hour a week is enough" and decision["version"] == 1
    assert decision["message_id"] and decision["authentication"].startswith("not checked")
    assert set(decision) >= {"approver", "decision", "comment", "at", "version"}
    revised = run(home, "charter", "revise", "1", str(write_charter(charter_toml(hours=1), "v2.toml")), "--now", NOW)
    assert "version 2" in revised.output and "Hours per week: 2 → 1" in revised.output
    assert "omar@corp.example.com request_changes" in run(home, "charter", "show", "1").output
    assert "withdrawn" in run(home, "charter", "withdraw", "1", "--now", NOW).output
    assert json.loads(run(home, "charter", "list", "--json").output)[0]["status"] == "withdrawn"


def test_errors_are_one_plain_line(world, write_charter):
    bad = write_charter(charter_toml(approvers=("ghost",)))
    result = run(world.home, "charter", "submit", str(bad), ok=False)
    assert result.exit_code == 2 and "approvers: ghost@corp.example.com is not a known person" in result.output
    result = run(world.home, "charter", "complete", "7", ok=False)
    assert result.exit_code == 2 and "no charter with id 7" in result.output
    run(world.home, "charter", "submit", str(write_charter()), "--now", NOW)
    result = run(world.home, "charter", "complete", "1", ok=False)
    assert "only an approved project can be completed" in result.output


def test_explain_context_approval_agrees_with_the_flow(world, write_charter, tmp_path):
    run(world.home, "charter", "submit", str(write_charter()), "--now", NOW)
    world.tick(SUBMITTED)
    cases = {"priya": "+1, looks good to me", "omar": "Approved if you cut the scope to two teams"}
    for n, (who, text) in enumerate(cases.items(), start=1):
        raw = world.reply(f"{who}@corp.example.com", text, SUBMITTED + timedelta(hours=n), "outlook")
        (tmp_path / f"{who}.eml").write_bytes(raw)
    for who, expected in (("priya", "approve"), ("omar", "request_changes")):
        read = json.loads(run(world.home, "explain", "--json", str(tmp_path / f"{who}.eml")).output)
        assert read["context"] == "approval"  # found through the reply token, without --context
        read = json.loads(run(world.home, "explain", "--context", "approval", "--json",
                              str(tmp_path / f"{who}.eml")).output)
        kept = [d for d in json.loads(run(world.home, "charter", "show", "1", "--json").output)["decisions"]
                if d["approver"].startswith(who)]
        assert read["intent"] == expected == kept[0]["decision"]


def test_withdraw_tells_approvers_who_had_not_answered(world, write_charter):
    run(world.home, "charter", "submit", str(write_charter()), "--now", NOW)
    world.tick(SUBMITTED)
    world.reply("priya@corp.example.com", "Approve", SUBMITTED + timedelta(hours=1))
    run(world.home, "charter", "withdraw", "1", "--now", "2027-01-04T12:00:00Z")
    world.tick(SUBMITTED + timedelta(hours=2))
    told = [r["to_addr"] for r in world.db.query("SELECT to_addr FROM outbox WHERE key LIKE '%notneeded%'")]
    assert told == ["omar@corp.example.com"]


def test_the_sample_charter_checks_against_the_sample_community(tmp_path):
    from pathlib import Path

    home = tmp_path / "sample"
    home.mkdir()
    sample = Path(__file__).resolve().parents[3] / "data" / "charters" / "observability-playbook.toml"
    # The sample's deadline is a fixed date: checked at a moment before it, not at the wall clock's.
    checked = run(home, "charter", "submit", str(sample), "--check", "--now", "2027-01-04T09:00:00Z")
    assert "3 people × 2 h/week × 8 weeks = 48 hours" in checked.output


def test_check_refuses_a_past_deadline_as_submit_does(world, write_charter):
    path = write_charter(charter_toml(deadline="2026-10-01"))
    checked = run(world.home, "charter", "submit", str(path), "--check", "--now", NOW, ok=False)
    submitted = run(world.home, "charter", "submit", str(path), "--now", NOW, ok=False)
    assert checked.exit_code == submitted.exit_code == 2
    assert checked.output == submitted.output
    assert "deadline = 2026-10-01; expected a date from today on" in checked.output
    assert "(no charters)" in run(world.home, "charter", "list").output
