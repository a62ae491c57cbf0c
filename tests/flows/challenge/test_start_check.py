"""`challenge start --check` makes every check `start` makes, and says the same thing."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.store import challenges as store
from mailer.store.people import add_person

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
