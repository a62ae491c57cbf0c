"""The README stays honest: its quick start, its walkthrough, its links, and the reference it
points to (docs/reference.md's settings and challenge keys, docs/commands.md's commands)."""
from __future__ import annotations

import re
import shlex
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main
from mailer.config import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = {path: path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
REFERENCE = (ROOT / "docs" / "reference.md").read_text()
COMMANDS = (ROOT / "docs" / "commands.md").read_text()


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
            assert f"`{section}.{key}`" in REFERENCE, f"{section}.{key} missing from docs/reference.md"


def test_every_command_in_the_readme_and_docs_exists():
    text = "\n".join([README, *DOCS.values()])
    used = set(re.findall(r"run\.py(?: --home \S+)? ([a-z]+(?: [a-z]+)?)", text))
    runner = CliRunner()
    for phrase in used:
        words = phrase.split()
        result = runner.invoke(main, [*words, "--help"])
        if result.exit_code != 0:  # a second word may be an argument, not a subcommand
            result = runner.invoke(main, [words[0], "--help"])
        assert result.exit_code == 0, f"run.py {phrase}: {result.output}"


def test_every_top_level_command_is_in_the_command_reference():
    for name in main.commands:
        assert f"run.py {name}" in COMMANDS or f"`{name}`" in COMMANDS, f"{name} is not in docs/commands.md"


def test_the_challenge_key_reference_is_clean_and_complete():
    from mailer.flows.challenge.definition import KEYS

    section = REFERENCE.split("Every key (unknown keys are refused", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    assert "::" not in block and '"""' not in block and "``" not in block
    for key in KEYS:
        assert re.search(rf"^\[{{0,2}}{key}\]{{0,2}}\s", block, re.M), f"{key} is not in docs/reference.md's key reference"


def test_the_readme_is_short_enough_for_a_lead():
    assert len(README.splitlines()) <= 250


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_leads_to_a_file_that_exists():
    pages = {ROOT / "README.md": README, **DOCS}
    pages[ROOT / "docs" / "emails" / "README.md"] = (ROOT / "docs" / "emails" / "README.md").read_text()
    checked = 0
    for page, text in pages.items():
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, mailto:, or a place on the same page
            path = (page.parent / target.split("#", 1)[0]).resolve()
            assert path.exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"
            checked += 1
    assert checked > 20


def test_every_anchor_in_a_link_names_a_heading_of_its_page():
    pages = {ROOT / "README.md": README, **DOCS}
    for page, text in pages.items():
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or "#" not in target or target.startswith("#"):
                continue
            name, anchor = target.split("#", 1)
            linked = (page.parent / name).resolve().read_text()
            assert anchor in headings(linked), f"{page.relative_to(ROOT)}: no heading for #{anchor} in {name}"


def headings(markdown: str) -> set[str]:
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped, spaces to -."""
    found = re.findall(r"^#{1,6} (.+)$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in found}


# The walkthrough's clock: a Friday, so `challenge new` starts the programme on Monday 4 January
# and the README's example dates (deadline, closing day, meetup) lie ahead.
WALK_NOW = datetime(2027, 1, 1, 9, 0, tzinfo=timezone.utc)
RUN = ".venv/bin/python run.py "


def walkthrough() -> list[tuple[str, str, str]]:
    """The README's "Your first real week" in order: ("file", NAME, text) for each block shown
    after a line "`NAME`:", and ("sh", line, "") for each line of a shell block."""
    section = README.split("## Your first real week", 1)[1].split("\n## ", 1)[0]
    steps = []
    for match in re.finditer(r"(?:^`([^`\n]+)`:\n\n)?^```(\w+)\n(.*?)^```", section, re.S | re.M):
        name, language, body = match.groups()
        if name:
            steps.append(("file", name, body))
        elif language == "sh":
            steps.extend(("sh", line, "") for line in body.splitlines() if line.strip())
    return steps


class FrozenClock(datetime):
    """The wall clock the command line reads (mailer/cli/now.py), held at WALK_NOW."""

    @classmethod
    def now(cls, tz=None):
        return WALK_NOW.astimezone(tz) if tz else WALK_NOW.replace(tzinfo=None)


def test_the_walkthrough_shows_files_and_commands():
    steps = walkthrough()
    assert {name for kind, name, _ in steps if kind == "file"} >= {"members.csv", "charter.toml", "call.toml",
                                                                   "meetup.toml"}
    commands = [line for kind, line, _ in steps if kind == "sh"]
    assert len(commands) > 20
    assert all(line.startswith((RUN, "export ")) for line in commands), commands


def test_every_walkthrough_command_runs_as_written(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("mailer.cli.now.datetime", FrozenClock)
    env = {"PWD": str(tmp_path), "MAILER_HOME": None}
    runner = CliRunner()
    said = {}
    for kind, text, body in walkthrough():
        if kind == "file":
            (tmp_path / text).write_text(body, encoding="utf-8")
            continue
        if text.startswith("export "):
            name, value = text.removeprefix("export ").split("=", 1)
            env[name] = value.replace("$PWD", env["PWD"])
            continue
        args = shlex.split(text.removeprefix(RUN), comments=True)
        result = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, f"{text}\n{result.output}"
        assert "error" not in result.output.lower(), f"{text}\n{result.output}"
        said[text.removeprefix(RUN)] = result.output
    assert "(approved, version 1)" in said["charter show 1"]  # the approvers' replies were acted on
    assert "Playbook reviewers" in said["call show 2"] and "nobody gets the list" not in said["call open call.toml"]
    assert "4 invitees" in said["meetup schedule meetup.toml"]
    home = tmp_path / "cop"
    assert (home / "mailer.db").exists() and not (tmp_path / "var").exists()
    sent = [p for p in (home / "mail" / "outbox").rglob("*") if p.is_file()]
    assert sent, "the walkthrough sent nothing to cop/mail/outbox"
