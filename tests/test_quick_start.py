"""The README's first command, exactly as written, in a fresh copy of the project."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_readme import ROOT, quick_start_commands

IGNORE = shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", ".pytest_cache", ".hypothesis",
                                "*.egg-info")


@pytest.mark.slow
def test_first_command_runs_the_sample_community(tmp_path: Path):
    project = tmp_path / "cop-mailer"
    shutil.copytree(ROOT, project, ignore=IGNORE)
    first = quick_start_commands()[0]
    done = subprocess.run(first, shell=True, cwd=project, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output
    assert (project / "var" / "mailer.db").exists()
    sent = list((project / "var" / "mail" / "outbox").rglob("*"))
    assert [p for p in sent if p.is_file()], "nothing was written to var/mail/outbox"
    home = project / "var"  # journal entries, replies and reply tokens: the user's alone
    assert [p for p in [home, *home.rglob("*")] if p.stat().st_mode & 0o077] == []
    again = subprocess.run(first, shell=True, cwd=project, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "Traceback" not in again.stdout + again.stderr
