"""`challenge start --check` makes every check `start` makes, and says the same thing."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.store import challenges as store
from mailer.store.people import add_person
from tests.flows.challenge.conftest import challenge_toml

BEFORE = "2026-12-20T09:00:00Z"


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def both(home, path, now: str):
    """(--check, start) on the same file at the same moment."""
    return (run(home, "challenge", "start", str(path), "--check", "--now", now),
            run(home, "challenge", "start", str(path), "--now", now))


def test_an_already_started_challenge_is_refused_by_check_too(home, db, crew, write_challenge):
    path = write_challenge()
    assert run(home, "challenge", "start", str(path), "--now", BEFORE).exit_code == 0
    checked, started = both(home, path, BEFORE)
    assert checked.exit_code == started.exit_code == 2
    assert checked.output == started.output and "was already started as challenge 1" in checked.output


def test_an_ended_challenge_is_refused_by_check_too(home, db, crew, write_challenge):
    checked, started = both(home, write_challenge(), "2027-03-01T12:00:00Z")
    assert checked.exit_code == started.exit_code == 2
    assert checked.output == started.output and "this challenge ended on" in checked.output
    assert store.list_challenges(db) == []


@pytest.mark.parametrize("known", [False, True])
def test_sponsors_who_are_not_people_are_named_by_check_and_start(home, db, crew, write_challenge, known):
    if known:
        add_person(db, "sponsor@corp.example.com", "Sol Sponsor", "Europe/Paris", ("sponsor",))
    checked, started = both(home, write_challenge(), BEFORE)
    assert checked.exit_code == started.exit_code == 0
    note = "note: sponsor sponsor@corp.example.com is not a known person"
    assert (note in checked.output, note in started.output) == (not known, not known)


@pytest.mark.parametrize("participants", ['"all"', '["sam@corp.example.com", "aiko@corp.example.com"]'])
def test_a_challenge_nobody_can_be_sent_is_refused_by_check_and_start(home, db, crew, write_challenge,
                                                                      participants):
    """Issue 20: a challenge whose participants are all unknown (or unmailable) started for nobody."""
    from mailer.store.people import set_status

    add_person(db, "ana@corp.example.com", "Ana", "Europe/Lisbon", ("sponsor",))
    for person_id in crew.values():
        set_status(db, person_id, "bounced")
    checked, started = both(home, write_challenge(challenge_toml(participants=participants)), BEFORE)
    assert checked.exit_code == started.exit_code == 2
    assert checked.output == started.output and "names nobody who can be sent the challenge" in checked.output
    assert store.list_challenges(db) == []


def test_a_report_back_already_past_is_refused_by_check_as_start_refuses_it(home, db, crew, write_challenge):
    """On the last day, a report-back at 00:00 that day is past; start would fail in the meetup flow."""
    extra = '[report_back]\ndays_after_end = 0\nhour = 0\ntimezone = "UTC"\n'
    checked, started = both(home, write_challenge(challenge_toml(length=3, extra=extra)), "2027-01-06T12:00:00Z")
    assert checked.exit_code == started.exit_code == 2 and checked.output == started.output
    assert "report_back: start 2027-01-06 00:00 UTC is already past" in checked.output
    assert store.list_challenges(db) == []


def test_show_and_list_count_one_day_as_one_day(home, db, crew, write_challenge):
    path = write_challenge(challenge_toml(length=1))
    assert "valid (1 day)" in run(home, "challenge", "start", str(path), "--check", "--now", BEFORE).output
    run(home, "challenge", "start", str(path), "--now", BEFORE)
    shown = run(home, "challenge", "show", "1", "--now", BEFORE).output
    assert "starts 2027-01-04, 1 day, at 08:00 local" in shown and "1 days" not in shown
    assert "  0 days journaled" in shown
    assert "1 day  4 participants" in run(home, "challenge", "list", "--now", BEFORE).output


def test_an_empty_participant_list_needs_a_member_to_announce_it_to(home, db, write_challenge):
    path = write_challenge(challenge_toml(participants="[]"))
    checked, started = both(home, path, BEFORE)
    assert checked.exit_code == started.exit_code == 2 and checked.output == started.output
    assert "participants = [] and there is no member to announce it to" in checked.output
    add_person(db, "sam@corp.example.com", "Sam", "America/New_York", ("member",))
    assert run(home, "challenge", "start", str(path), "--check", "--now", BEFORE).exit_code == 0
