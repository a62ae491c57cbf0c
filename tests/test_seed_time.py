"""A new home is seeded at the command's ``--now`` (not the wall clock's), and the built-in sample
challenge, whose dates are fixed in its file, starts the Monday after when they have passed: the
README's first command mails something whenever it is run (mailer/bootstrap.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main
from mailer.flows.challenge.programmes import SAMPLE
from mailer.store import challenges, open_db


def run(home: Path, *args: str):
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def started(home: Path) -> list[tuple[str, str]]:
    db = open_db(home / "mailer.db")
    try:
        return [(c["title"], c["start"]) for c in challenges.list_challenges(db)]
    finally:
        db.close()


def test_a_home_first_opened_with_now_after_the_sample_ended_starts_it_the_monday_after(tmp_path):
    home = tmp_path / "home"
    result = run(home, "tick", "--now", "2031-03-12T09:00:00Z")  # a Wednesday, years after the file's dates
    assert started(home) == [("DevOps 30-day challenge", "2031-03-17")]
    assert "queued" in result.output and "nothing to do" not in result.output


def test_a_home_first_opened_with_now_before_the_sample_keeps_the_files_start(tmp_path):
    home = tmp_path / "home"
    run(home, "tick", "--now", "2027-01-02T09:00:00Z")
    assert started(home) == [("DevOps 30-day challenge", "2027-01-04")]


def test_a_leads_own_seed_challenge_that_ended_is_not_moved(tmp_path):
    seed = tmp_path / "seed"
    (seed / "challenges").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "data" / "people.csv", seed / "people.csv")
    shutil.copy(SAMPLE, seed / "challenges" / "ours.toml")
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text(f'[mailer]\ndata = "{seed}"\n', encoding="utf-8")
    run(home, "tick", "--now", "2031-03-12T09:00:00Z")
    assert started(home) == []  # their dates are theirs to change: kept as written, and said
