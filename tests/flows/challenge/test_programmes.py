"""The programme library in data/challenges/: each programme is a valid 30-day challenge that
`challenge start --check` accepts for the sample community, `challenge list-programmes` shows
them, `challenge new --from` copies one (never over a file), and a new sample home starts only
the DevOps sample."""
from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.flows.challenge import programmes
from mailer.flows.challenge.definition import load_definition

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = ROOT / "data" / "challenges"
NAMES = ("community-leads-30", "devops-30", "life-work-balance-30", "public-speaking-30")
NOW = "2027-01-01T09:00:00Z"


def run(home: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def sample_home(home: Path) -> Path:
    """A fresh home holding the sample community's people and nothing started."""
    run(home, "people", "import", str(ROOT / "data" / "people.csv"))
    return home


def test_the_library_holds_the_four_programmes():
    assert tuple(p.stem for p in sorted(LIBRARY.glob("*.toml"))) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_programme_passes_challenge_start_check_for_the_sample_community(sample_home, name):
    out = run(sample_home, "challenge", "start", str(LIBRARY / f"{name}.toml"), "--check", "--now", NOW)
    assert f"{name}.toml: valid (30 days)" in out
    assert "12 participants" in out
    assert run(sample_home, "challenge", "list", "--now", NOW).strip() == "(no challenges)"


@pytest.mark.parametrize("name", NAMES)
def test_each_programme_has_thirty_distinct_days_of_real_activities(name):
    definition = load_definition(LIBRARY / f"{name}.toml")
    assert definition.length == 30 and len(definition.days) == 30
    titles = [title for title, _ in definition.days]
    assert len(set(titles)) == 30, "a day title is used twice"
    for title, activity in definition.days:
        words = len(activity.split())
        assert 40 <= words <= 160, f"{name}: {title!r} has {words} words"
        asks = activity.lower()
        assert "journal" in asks or "write" in asks, f"{name}: {title!r} does not say what to write down"
    assert definition.description and definition.domain


@pytest.mark.parametrize("name", NAMES)
def test_no_two_programmes_share_an_activity_paragraph(name):
    mine = {para for _, text in load_definition(LIBRARY / f"{name}.toml").days
            for para in re.split(r"\n\s*\n", text) if len(para) > 80 and "#share" not in para}
    for other in NAMES:
        if other != name:
            theirs = {para for _, text in load_definition(LIBRARY / f"{other}.toml").days
                      for para in re.split(r"\n\s*\n", text)}
            assert not mine & theirs, f"{name} and {other} share a paragraph"


def test_list_programmes_shows_each_with_one_line(home):
    out = run(home, "challenge", "list-programmes").splitlines()
    for name in NAMES:
        lines = [line for line in out if line.startswith(name + " ")]
        assert len(lines) == 1, out
        assert "30 days" in lines[0] and load_definition(LIBRARY / f"{name}.toml").title in lines[0]
    assert "Public speaking in 30 days: Thirty short practices for speaking to a room" in "\n".join(out)
    assert "challenge new --from NAME" in out[-1]


def test_new_from_copies_a_programme_that_then_starts(sample_home, tmp_path):
    target = tmp_path / "speaking.toml"
    out = run(sample_home, "challenge", "new", "--from", "public-speaking-30", str(target), "--now", NOW)
    assert f"wrote {target}" in out and "starting Mon 2027-01-04" in out and f"challenge start {target} --check" in out
    copied = target.read_text(encoding="utf-8")
    assert copied.startswith("# Started from the programme public-speaking-30")
    original = tomllib.loads((LIBRARY / "public-speaking-30.toml").read_text(encoding="utf-8"))
    assert tomllib.loads(copied) == {**original, "start": date(2027, 1, 4)}
    out = run(sample_home, "challenge", "start", str(target), "--now", NOW)
    assert "started challenge 1: Public speaking in 30 days" in out


def test_new_from_starts_next_monday_or_on_the_day_given(home, tmp_path):
    later = tmp_path / "later.toml"
    run(home, "challenge", "new", "--from", "life-work-balance-30", str(later), "--now", "2027-06-09T12:00:00Z")
    assert tomllib.loads(later.read_text(encoding="utf-8"))["start"] == date(2027, 6, 14)
    chosen = tmp_path / "chosen.toml"
    run(home, "challenge", "new", "--from", "community-leads-30", str(chosen), "--start", "2027-09-01")
    assert tomllib.loads(chosen.read_text(encoding="utf-8"))["start"] == date(2027, 9, 1)
    out = run(home, "challenge", "new", "--from", "devops-30", str(tmp_path / "x.toml"), "--start", "soon", code=2)
    assert "is not a date" in out and not (tmp_path / "x.toml").exists()


def test_new_from_never_overwrites_a_file(home, tmp_path):
    target = tmp_path / "mine.toml"
    target.write_text("title = \"my own\"\n")
    out = run(home, "challenge", "new", "--from", "devops-30", str(target), code=2)
    assert "exists" in out and "nothing was written" in out
    assert target.read_text() == "title = \"my own\"\n"


def test_new_from_an_unknown_programme_names_the_ones_there_are(home, tmp_path):
    out = run(home, "challenge", "new", "--from", "blockchain-30", str(tmp_path / "x.toml"), code=2)
    assert "no programme named 'blockchain-30'" in out and "public-speaking-30" in out
    assert not (tmp_path / "x.toml").exists()
    run(home, "challenge", "new", "--from", "../people", str(tmp_path / "y.toml"), code=2)
    assert not (tmp_path / "y.toml").exists()


def test_a_new_sample_home_starts_only_the_devops_sample(tmp_path):
    home = tmp_path / "sample"
    home.mkdir()
    (home / "mailer.toml").write_text('[mailer]\ndata = "sample"\naddress = "cop@example.test"\n')
    listed = run(home, "challenge", "list", "--now", NOW).strip().splitlines()
    assert len(listed) == 1 and listed[0].endswith("DevOps 30-day challenge")


def test_a_lead_seed_folder_still_starts_every_challenge_in_it(tmp_path):
    folder = tmp_path / "seed" / "challenges"
    folder.mkdir(parents=True)
    assert programmes.seed_challenges(tmp_path / "seed") == []
    for name in ("a", "b"):
        (folder / f"{name}.toml").write_text("")
    assert [p.name for p in programmes.seed_challenges(tmp_path / "seed")] == ["a.toml", "b.toml"]
    assert programmes.seed_challenges(ROOT / "data") == [LIBRARY / "devops-30.toml"]
