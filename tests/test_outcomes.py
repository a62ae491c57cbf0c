"""Every inbound message ends in an outcome someone can see (DESIGN.md principle 10), on the
quick-start home as the README drives it: `reply`, `tick`, `inbox list`, `explain`.

A change the person can see, one answer to them, or a record kept for the lead with its reason;
`inbox list` shows which, `inbox list --for-lead` what waits for a person.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.flows.challenge import flow
from mailer.simulation import calendar_client
from mailer.transports.maildir import deliver_to_inbox

SAM = "sam.carter@corp.example.com"
BEFORE = "2026-12-20T14:00:00Z"  # the sample challenge starts on Mon 4 Jan 2027: announcements only
DAY1 = "2027-01-04T14:00:00Z"  # 09:00 in New York: day 1 is open for Sam


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def newest(home: Path) -> dict:
    return json.loads(run(home, "inbox", "list", "--json", "--limit", "1"))[0]


def explained(home: Path, now: str) -> dict:
    files = sorted(str(p) for p in (home / "mail" / "processed" / "cur").iterdir())
    return json.loads(run(home, "explain", "--json", "--now", now, files[-1]).splitlines()[-1])


@pytest.fixture
def quick_start(tmp_path) -> Path:
    """The README's quick-start home: the sample community, before the challenge starts."""
    home = tmp_path / "sample"
    run(home, "tick", "--now", BEFORE)
    return home


@pytest.mark.parametrize("client", ["outlook", "gmail", "apple"])
def test_the_readmes_reply_before_the_challenge_starts_is_kept_for_day_1_and_answered(quick_start, client):
    run(quick_start, "reply", "--to", SAM, "--client", client, "--now", "2026-12-20T15:00:00Z",
        "--text", "Mapped our pipeline: 7 stages, two manual gates.")
    run(quick_start, "tick", "--now", "2026-12-20T15:01:00Z")
    row = newest(quick_start)
    assert (row["state"], row["intent"], row["outcome"]) == ("done", "journal", "change")
    journal = run(quick_start, "journal", "export", SAM)
    assert "## Day 1" in journal and "Mapped our pipeline: 7 stages, two manual gates." in journal
    answer = json.loads(run(quick_start, "outbox", "list", "--json", "--limit", "1"))[0]
    assert answer["to_addr"] == SAM and answer["subject"].startswith("Re:")
    text = run(quick_start, "outbox", "show", str(answer["id"]), "--raw").replace("=\r\n", "").replace("=\n", "")
    assert "starts on Mon 4 Jan" in text and "Your note is kept" in text
    seen = explained(quick_start, "2026-12-20T15:01:00Z")
    assert seen["outcome"] == "acted on: journal" and seen["route"]["ends_in"] == "change"


def test_a_note_to_the_announcement_while_day_1_runs_is_that_days_entry(quick_start):
    run(quick_start, "reply", "--to", SAM, "--client", "outlook", "--now", DAY1,  # the announcement is Sam's latest
        "--text", "Day one done: drew the pipeline on the whiteboard.")
    run(quick_start, "tick", "--now", "2027-01-04T13:00:00Z")  # 08:00 in New York: day 1 opens for Sam
    run(quick_start, "tick", "--now", DAY1)
    row = json.loads(run(quick_start, "inbox", "list", "--json"))[0]
    assert (row["intent"], row["outcome"]) == ("journal", "change")
    journal = json.loads(run(quick_start, "journal", "export", SAM, "--format", "json"))
    [entry] = journal[0]["entries"] if isinstance(journal, list) else journal["entries"]
    assert entry["day"] == 1 and "drew the pipeline" in entry["text"]
    to_sam = [r for r in json.loads(run(quick_start, "outbox", "list", "--json")) if r["to_addr"] == SAM]
    assert not [r for r in to_sam if r["subject"].startswith("Re:")]  # an entry wants no answer


def test_inbox_list_for_lead_shows_only_what_waits_for_a_person(quick_start):
    run(quick_start, "reply", "--to", SAM, "--text", "Mapped it.", "--now", "2026-12-20T15:00:00Z")
    run(quick_start, "reply", "--to", SAM, "--from", "mallory@elsewhere.example", "--text", "Stop.",
        "--now", "2026-12-20T15:00:00Z")
    run(quick_start, "tick", "--now", "2026-12-20T15:01:00Z")
    listed = json.loads(run(quick_start, "inbox", "list", "--json"))
    assert sorted(r["outcome"] for r in listed) == ["change", "kept"]
    [waiting] = json.loads(run(quick_start, "inbox", "list", "--for-lead", "--json"))
    assert waiting["from_addr"] == "mallory@elsewhere.example" and "is not the token's recipient" in waiting["reason"]
    assert "kept" in run(quick_start, "inbox", "list", "--for-lead")


def test_a_handler_that_ends_in_no_outcome_is_kept_as_a_bug_and_shown(quick_start, monkeypatch):
    monkeypatch.setattr(flow, "handle_reply", lambda db, reply, now, settings=None: [])  # a buggy handler
    run(quick_start, "reply", "--to", SAM, "--text", "Mapped it.", "--now", "2026-12-20T15:00:00Z")
    result = CliRunner().invoke(main, ["--home", str(quick_start), "tick", "--now", "2026-12-20T15:01:00Z"])
    assert result.exit_code == 0 and "changed nothing and answered nothing (a bug)" in result.output
    [waiting] = json.loads(run(quick_start, "inbox", "list", "--for-lead", "--json"))
    assert (waiting["state"], waiting["outcome"]) == ("done", "none") and "a bug" in waiting["reason"]


def test_a_calendar_answer_to_an_unknown_event_is_kept_sends_nothing_and_explain_agrees(quick_start):
    when = datetime(2027, 2, 1, 16, 0, tzinfo=timezone.utc)
    event = calendar_client.Invitation("elsewhere-42@other.example", 0, "Team lunch", when, when + timedelta(hours=1),
                                       "cop@example.test", "Canteen")
    raw = calendar_client.reply(event, "outlook", SAM, "Sam Carter", "ACCEPTED", "",
                                datetime(2026, 12, 20, 15, 0, tzinfo=timezone.utc))
    (quick_start / "answer.eml").write_bytes(raw)
    seen = json.loads(run(quick_start, "explain", "--json", "--now", "2026-12-20T15:01:00Z",
                          str(quick_start / "answer.eml")))
    sent = run(quick_start, "outbox", "list", "--json", "--limit", "1000")
    deliver_to_inbox(quick_start / "mail", raw)
    run(quick_start, "tick", "--now", "2026-12-20T15:01:00Z")
    row = newest(quick_start)
    assert (row["state"], row["outcome"]) == ("ignored", "kept") and "UID elsewhere-42@other.example" in row["reason"]
    assert seen["outcome"] == f"refused: {row['reason']}" and seen["route"]["ends_in"] == "kept"
    assert run(quick_start, "outbox", "list", "--json", "--limit", "1000") == sent  # nothing to a calendar
