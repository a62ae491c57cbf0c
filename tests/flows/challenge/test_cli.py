"""The challenge and journal commands on a real home folder.

They run under the real main group: ``ctx.obj`` is the App (home, settings, db) and a
MailerError becomes one plain line and exit code 2.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from click.testing import CliRunner

from mailer.cli import main
from mailer.flows.challenge import flow as challenge
from mailer.store import challenges as store
from tests.flows.challenge.conftest import BEFORE, UTC, challenge_toml, routed


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)


def test_start_validates_and_says_what_will_happen(home, db, crew, write_challenge):
    path = write_challenge()
    checked = run(home, "challenge", "start", str(path), "--check", "--now", "2026-12-20T09:00:00Z")
    assert checked.exit_code == 0 and store.list_challenges(db) == []
    result = run(home, "challenge", "start", str(path), "--now", "2026-12-20T09:00:00Z")
    assert result.exit_code == 0, result.output
    assert "started challenge 1: DevOps 30-day challenge" in result.output
    assert "4 participants, day 1 goes out on Mon 4 Jan at 08:00 local, first send 23:00 UTC Sun for Tokyo" \
        in result.output


def test_a_bad_file_is_one_plain_error_line(home, db, crew, write_challenge):
    path = write_challenge(challenge_toml(participants='["ghost@corp.example.com"]'))
    result = CliRunner().invoke(main, ["--home", str(home), "challenge", "start", str(path)])
    assert result.exit_code == 2
    assert f"error: {path}: participants: ghost@corp.example.com is not a known person" in result.output
    assert "Traceback" not in result.output


def test_list_and_show(home, db, crew, write_challenge):
    run(home, "challenge", "start", str(write_challenge()), "--now", "2026-12-20T09:00:00Z")
    listed = json.loads(run(home, "challenge", "list", "--json", "--now", "2027-01-08T12:00:00Z").output)
    assert listed == [{"id": 1, "title": "DevOps 30-day challenge", "start": "2027-01-04", "length": 30,
                       "phase": "day 5", "participants": 4}]
    shown = json.loads(run(home, "challenge", "show", "1", "--json").output)
    assert [p["email"] for p in shown["participants"]] == sorted(crew)
    assert shown["send_time"] == "08:00" and shown["sponsors"] == ["sponsor@corp.example.com"]
    assert "aiko@corp.example.com" in run(home, "challenge", "show", "1").output
    missing = CliRunner().invoke(main, ["--home", str(home), "challenge", "show", "9"])
    assert missing.exit_code == 2 and "no challenge with id 9" in missing.output


def test_pause_resume_and_remove_by_cli(home, db, crew, write_challenge, sim):
    run(home, "challenge", "start", str(write_challenge()), "--now", "2026-12-20T09:00:00Z")
    monday = datetime(2027, 1, 4, 12, tzinfo=UTC)
    assert run(home, "challenge", "pause", "1").output == "challenge 1 is now paused\n"
    assert sim.tick(monday) == []
    run(home, "challenge", "resume", "1")
    assert {p.to for p in sim.tick(monday) if ":day:1:" in p.key} == {"aiko@corp.example.com", "priya@corp.example.com",
                                                "oliver@corp.example.com"}
    out = run(home, "challenge", "pause", "1", "--person", "sam@corp.example.com", "--now", monday.isoformat())
    assert out.output == "sam@corp.example.com is now paused in challenge 1\n"
    assert sim.tick(monday + timedelta(hours=2)) == []  # 08:00 in New York: Sam is paused
    run(home, "challenge", "resume", "1", "--person", "sam@corp.example.com")
    assert [p.key for p in sim.tick(monday + timedelta(hours=3))] == ["challenge:1:day:1:person:4"]
    run(home, "challenge", "remove", "1", "--person", "oliver@corp.example.com")
    assert store.get_participant(db, 1, crew["oliver@corp.example.com"])["status"] == "stopped"
    run(home, "challenge", "remove", "1")
    assert sim.tick(monday + timedelta(days=1)) == []
    assert run(home, "challenge", "list").output == "(no challenges)\n"


def test_journal_export(home, db, crew, write_challenge):
    run(home, "challenge", "start", str(write_challenge()), "--now", "2026-12-20T09:00:00Z")
    person = db["people"].get(crew["sam@corp.example.com"])
    for day, text in ((1, "Mapped it.\nSeven steps."), (2, "Lead time: 3 days #share")):
        now = BEFORE + timedelta(days=20 + day)
        challenge.handle_reply(db, routed(person, f"challenge:1:day:{day}", text, "journal", now), now, None)
    md = run(home, "journal", "export", "sam@corp.example.com")
    assert md.exit_code == 0
    assert "# DevOps 30-day challenge: journal of Sam Carter" in md.output
    assert "## Day 1 · Mon 4 Jan 2027 · Practice 1\n\nMapped it.\nSeven steps." in md.output
    data = json.loads(run(home, "journal", "export", "sam@corp.example.com", "--challenge", "1",
                          "--format", "json").output)
    assert data["days_journaled"] == 2 and data["longest_streak"] == 2
    assert [e["shareable"] for e in data["entries"]] == [False, True]
    nobody = CliRunner().invoke(main, ["--home", str(home), "journal", "export", "aiko@corp.example.com",
                                       "--challenge", "1"])
    assert "(no entries)" in nobody.output
    unknown = CliRunner().invoke(main, ["--home", str(home), "journal", "export", "ghost@x.test"])
    assert unknown.exit_code == 2 and "no person with address ghost@x.test" in unknown.output
