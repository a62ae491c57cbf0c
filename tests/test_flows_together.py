"""The flows wired together, as a community lead would use them from the command line.

A charter is approved by reply, its open place is filled through the volunteer call it opens,
completing it schedules the report-back meetup for the team and the community, and the funding
sponsor's digest tells of both. Everything goes through the real CLI, inbox and Maildir.
"""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def reply(home: Path, to: str, text: str, client: str, now: str) -> None:
    run(home, "reply", "--to", to, "--text", text, "--client", client, "--now", now)


def test_charter_call_meetup_and_digest_work_together(home: Path):
    run(home, "people", "import", str(ROOT / "data" / "people.csv"))
    run(home, "charter", "submit", str(ROOT / "data" / "charters" / "observability-playbook.toml"),
        "--now", "2027-01-04T09:00:00Z")
    run(home, "tick", "--now", "2027-01-04T10:00:00Z")
    reply(home, "jonas.weber@corp.example.com", "Approve. Good scope.\n\nBest regards,\nJonas", "outlook",
          "2027-01-04T11:00:00Z")
    reply(home, "dana.sponsor@corp.example.com", "Approved", "gmail", "2027-01-04T11:00:00Z")
    run(home, "tick", "--now", "2027-01-04T12:00:00Z")
    charter = json.loads(run(home, "charter", "show", "1", "--json"))
    assert charter["status"] == "approved" and charter["call_id"] == 1

    reply(home, "grace.okafor@corp.example.com", "I'm in!", "apple", "2027-01-04T13:00:00Z")
    reply(home, "wei.chen@corp.example.com", "I'm in a meeting all day, will read this later.", "gmail",
          "2027-01-04T13:00:00Z")
    run(home, "tick", "--now", "2027-01-04T14:00:00Z")
    call = json.loads(run(home, "call", "show", "1", "--json"))
    assert [role["confirmed"] for role in call["roles"]] == [["grace.okafor@corp.example.com"]]
    assert "grace.okafor@corp.example.com" in json.loads(run(home, "charter", "show", "1", "--json"))["team"]

    run(home, "charter", "complete", "1", "--now", "2027-01-05T10:00:00Z")
    run(home, "tick", "--now", "2027-01-05T11:00:00Z")
    meetup = json.loads(run(home, "meetup", "show", "1", "--json"))
    invited = {i["email"] for i in meetup["invitees"]}
    assert {"grace.okafor@corp.example.com", "sam.carter@corp.example.com", "wei.chen@corp.example.com"} <= invited

    digest = run(home, "digest", "preview", "dana.sponsor@corp.example.com", "--now", "2027-01-11T16:00:00Z")
    assert "PROJECTS" in digest and "Observability playbook (completed" in digest
    assert "MEETUPS" in digest and f"of {len(invited)} invited" in digest
