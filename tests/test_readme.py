"""The README stays honest: its quick start, its configuration table and its commands."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main
from mailer.config import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_exactly_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "run.py" in commands[0] and "pip install" in commands[0]
    assert commands[1] == "sh tests/run.sh"


def test_ci_runs_the_readme_test_command():
    assert "sh tests/run.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_documented():
    for section, keys in SCHEMA.items():
        for key in keys:
            assert f"`{section}.{key}`" in README, f"{section}.{key} missing from README"


def test_every_command_in_the_readme_exists():
    used = set(re.findall(r"run\.py(?: --home \S+)? ([a-z]+(?: [a-z]+)?)", README))
    runner = CliRunner()
    for phrase in used:
        words = phrase.split()
        result = runner.invoke(main, [*words, "--help"])
        if result.exit_code != 0:  # a second word may be an argument, not a subcommand
            result = runner.invoke(main, [words[0], "--help"])
        assert result.exit_code == 0, f"run.py {phrase}: {result.output}"


def test_every_top_level_command_is_in_the_readme():
    for name in main.commands:
        assert f"run.py {name}" in README or f"`{name}`" in README, f"{name} is not documented"


def test_the_challenge_key_reference_is_clean_and_complete():
    from mailer.flows.challenge.definition import KEYS

    section = README.split("Every key (unknown keys are refused", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    assert "::" not in block and '"""' not in block and "``" not in block
    for key in KEYS:
        assert re.search(rf"^\[{{0,2}}{key}\]{{0,2}}\s", block, re.M), f"{key} is not in the README's key reference"
