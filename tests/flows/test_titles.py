"""Issue 19: a title holding a bidi override (U+202E) or another control or format character
(Unicode Cc/Cf/Zl/Zp) is refused in every flow's file, as a person's name is at import, before
it can reach a subject or a calendar SUMMARY. Zero-width joiners stay allowed (they belong to
words in Indic and Persian scripts)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mailer.errors import ConfigError
from mailer.flows.call.definition import load_spec
from mailer.flows.challenge.definition import load_definition as load_challenge
from mailer.flows.charter.definition import load_definition as load_charter
from mailer.flows.meetup.definition import load_definition as load_meetup
from mailer.people_csv import parse_people_csv
from tests.flows.call.conftest import call_toml
from tests.flows.challenge.conftest import challenge_toml
from tests.flows.charter.conftest import charter_toml
from tests.flows.meetup.conftest import meetup_toml

FILES = {  # flow -> (file text, its title line, loader)
    "call": (call_toml(), 'title = "Playbook writers"', load_spec),
    "challenge": (challenge_toml(length=2), 'title = "DevOps 30-day challenge"', load_challenge),
    "charter": (charter_toml(), 'title = "Observability playbook"', load_charter),
    "meetup": (meetup_toml(), 'title = "Report-back meetup"', load_meetup),
}
BAD = ["\u202e", "\u202d", "\u2066", "\u200b", "\ufeff", "\u00ad", "\u0007", "\u2028"]


@pytest.mark.parametrize("flow", sorted(FILES))
@pytest.mark.parametrize("char", BAD)
def test_a_title_with_a_control_or_format_character_is_refused(tmp_path: Path, flow: str, char: str):
    text, line, load = FILES[flow]
    assert line in text
    title = line.split('"')[1]
    path = tmp_path / f"{flow}.toml"
    escaped = f"\\u{ord(char):04x}"  # as TOML escapes it (a raw C0 control is not valid TOML at all)
    path.write_text(text.replace(line, f'title = "{title[:4]}{escaped}{title[4:]}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert f"{path}: title holds a control or invisible formatting character ({char!r})" in str(err.value)


@pytest.mark.parametrize("flow", sorted(FILES))
def test_a_title_with_a_zero_width_joiner_is_kept(tmp_path: Path, flow: str):
    text, line, load = FILES[flow]
    path = tmp_path / f"{flow}.toml"
    path.write_text(text.replace(line, 'title = "क्\u200dष playbook"'), encoding="utf-8")
    loaded = load(path)
    assert (loaded["title"] if isinstance(loaded, dict) else loaded.title) == "क्\u200dष playbook"


def test_a_challenge_day_title_is_held_to_the_same_rule(tmp_path: Path):
    path = tmp_path / "challenge.toml"
    path.write_text(challenge_toml(length=2).replace('title = "Practice 2"', 'title = "Practice\u202e 2"'))
    with pytest.raises(ConfigError, match=r"days\[2\]: title holds a control or invisible formatting"):
        load_challenge(path)


def test_the_rule_is_the_one_people_import_applies():
    rows, errors = parse_people_csv("email,name,timezone\nzed@corp.example.com,Ze\u202ed,Europe/Paris\n")
    assert rows == [] and errors == ["line 2: the name holds a control character or line break ('\\u202e')"]
