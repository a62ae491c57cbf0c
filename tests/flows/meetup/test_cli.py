"""The meetup commands on a real home folder, under the real main group."""
from __future__ import annotations

import json
import sys

import pytest

from click.testing import CliRunner

from mailer.cli import main
from mailer.store import meetups as store
from tests.flows.meetup.conftest import meetup_toml

NOW = "2027-03-01T09:00:00Z"


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)


def test_schedule_check_then_schedule(home, db, crew, write_meetup):
    path = write_meetup()
    checked = run(home, "meetup", "schedule", str(path), "--check", "--now", NOW)
    assert checked.exit_code == 0, checked.output
    assert "3 invitees, Tue 30 Mar 2027 18:00 Europe/London (17:00 UTC), 60 minutes" in checked.output
    assert store.list_meetups(db) == []
    done = run(home, "meetup", "schedule", str(path), "--now", NOW)
    assert "scheduled meetup 1: Report-back meetup" in done.output
    assert len(store.list_meetups(db)) == 1


def test_errors_are_one_plain_line(home, db, crew, write_meetup, monkeypatch):
    monkeypatch.setitem(sys.modules, "mailer.flows.call", None)  # an installation without volunteer calls
    path = write_meetup(meetup_toml(invite='"call:4"'))
    result = CliRunner().invoke(main, ["--home", str(home), "meetup", "schedule", str(path), "--check", "--now", NOW])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert '"call:ID" is not available here' in result.output
    result = CliRunner().invoke(main, ["--home", str(home), "meetup", "show", "9"])
    assert result.exit_code == 2 and "no meetup with id 9" in result.output


def test_move_cancel_list_show_attended(home, db, crew, write_meetup):
    run(home, "meetup", "schedule", str(write_meetup()), "--now", NOW)
    moved = run(home, "meetup", "move", "1", "--start", "2027-04-01T18:30", "--duration", "90", "--now", NOW)
    assert "moved to 2027-04-01 18:30 Europe/London (version 1)" in moved.output
    same = run(home, "meetup", "move", "1", "--start", "2027-04-01T17:30:00Z", "--now", NOW)
    assert "already at that time" in same.output
    data = json.loads(run(home, "meetup", "show", "1", "--json").output)
    assert data["version"] == 1 and data["start"] == "2027-04-01T17:30:00+00:00" and data["duration_minutes"] == 90
    assert {(p["email"], p["answer"], p["version"]) for p in data["invitees"]} == {
        ("ana@corp.example.com", "needs-action", None), ("bob@corp.example.com", "needs-action", None),
        ("chen@corp.example.com", "needs-action", None)}
    listed = run(home, "meetup", "list")
    assert "scheduled 2027-04-01 18:30 Europe/London" in listed.output and "0/3 accepted" in listed.output
    came = run(home, "meetup", "attended", "1", "ana@corp.example.com", "dora@corp.example.com",
               "--now", "2027-04-01T19:00:00Z")
    assert "recorded 2 attendees of meetup 1" in came.output
    shown = run(home, "meetup", "show", "1").output
    assert "ana@corp.example.com" in shown and "came" in shown
    cancelled = run(home, "meetup", "cancel", "1", "--reason", "Speaker ill", "--now", NOW)
    assert "meetup 1 cancelled" in cancelled.output
    again = CliRunner().invoke(main, ["--home", str(home), "meetup", "cancel", "1", "--now", NOW])
    assert again.exit_code == 2 and "meetup 1 is cancelled" in again.output


def both(home, path):
    """(--check, schedule) on the same file at the same moment."""
    return (CliRunner().invoke(main, ["--home", str(home), "meetup", "schedule", str(path), "--check", "--now", NOW]),
            CliRunner().invoke(main, ["--home", str(home), "meetup", "schedule", str(path), "--now", NOW]))


@pytest.mark.parametrize("text, refusal", [
    (meetup_toml(start="2027-02-10T18:00:00"), "start 2027-02-10 18:00 UTC is already past"),
    (meetup_toml(invite='"approver"'), "names nobody who can be invited"),
])
def test_a_meetup_in_the_past_or_for_nobody_is_refused_by_check_and_schedule_alike(
        home, db, crew, write_meetup, text, refusal):
    checked, scheduled = both(home, write_meetup(text))
    assert checked.exit_code == scheduled.exit_code == 2 and checked.output == scheduled.output
    assert refusal in checked.output
    assert store.list_meetups(db) == []


def test_the_same_meetup_twice_is_refused_by_check_too(home, db, crew, write_meetup):
    path = write_meetup()
    assert run(home, "meetup", "schedule", str(path), "--now", NOW).exit_code == 0
    checked, scheduled = both(home, path)
    assert checked.exit_code == scheduled.exit_code == 2 and checked.output == scheduled.output
    assert "is already scheduled" in checked.output


def test_invite_all_means_every_member(home, db, crew, write_meetup):
    """Issue 19: `invite = "all"` silently got 0 invitees; it means every member, as a call's `to`."""
    from mailer.store.people import add_person, set_status

    add_person(db, "sol@corp.example.com", "Sol Sponsor", "Europe/Paris", ("sponsor",))
    set_status(db, add_person(db, "gone@corp.example.com", "Gone", "Europe/Paris", ("member",)), "bounced")
    checked, scheduled = both(home, write_meetup(meetup_toml(invite='"all"')))
    assert checked.exit_code == scheduled.exit_code == 0, checked.output
    assert "4 invitees" in checked.output and "4 invitees" in scheduled.output
    invited = {p["email"] for p in db.query(
        "SELECT p.email FROM meetup_invitees i JOIN people p ON p.id = i.person_id")}
    assert invited == {"ana@corp.example.com", "bob@corp.example.com", "chen@corp.example.com", "dora@corp.example.com"}
