"""A Maildir folder the worker may not write (mail/processed/cur, mail/inbox/new) is one line,
``error: …``, and exit code 2; nothing is lost: the reply is kept with its effect, and filed away
by the next pass once the folder is fixed.

Tests run as root here, and root ignores file modes: the command then runs as ``nobody`` in its
own process (everything imported first, since the interpreter may live where nobody can read).
Run as an ordinary user, the folder is simply made read-only.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
AS_USER = """
import importlib, os, pkgutil, sys
import mailer
for found in pkgutil.walk_packages(mailer.__path__, "mailer."):
    importlib.import_module(found.name)
import rich.progress
from mailer.cli import main
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid({uid})
    os.setuid({uid})
sys.argv = ["run.py", *sys.argv[1:]]
main()
"""


def as_user(home: Path, *args: str) -> subprocess.CompletedProcess:
    """``run.py --home HOME ARGS`` in its own process, as ``nobody`` when we are root."""
    return subprocess.run([sys.executable, "-c", AS_USER.format(uid=NOBODY), "--home", str(home), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def give(path: Path, owner: int) -> None:
    """``chown -R``, when we may (root); an ordinary user owns everything already."""
    if os.geteuid() != 0:
        return
    for item in [path, *path.rglob("*")]:
        os.chown(item, owner, owner)


@pytest.fixture
def home():
    """A sample home that has sent day 1, owned by the user the commands run as, with one reply
    from Sam (Outlook) waiting in mail/inbox. Outside pytest's own temp folder, which nobody
    may not enter."""
    top = Path(tempfile.mkdtemp(prefix="cop-perm-"))
    path = top / "var"
    runner = CliRunner()
    assert runner.invoke(main, ["--home", str(path), "tick", "--now", "2027-01-04T14:00:00Z"]).exit_code == 0
    reply = runner.invoke(main, ["--home", str(path), "reply", "--to", "sam.carter@corp.example.com",
                                 "--client", "outlook", "--text", "Whiteboard session done.",
                                 "--now", "2027-01-04T15:00:00Z"])
    assert reply.exit_code == 0, reply.output
    give(top, NOBODY)
    yield path
    shutil.rmtree(top)


def lock_out(folder: Path) -> None:
    """Make ``folder`` one the command's user may read but not write."""
    if os.geteuid() == 0:
        os.chown(folder, 0, 0)
        os.chmod(folder, 0o755)
    else:
        os.chmod(folder, 0o555)


@pytest.mark.parametrize("folder", ["processed/cur", "inbox/new"])
def test_a_folder_the_worker_may_not_write_is_one_line_and_nothing_is_lost(home, folder):
    mail = home / "mail"
    (mail / "processed" / "cur").mkdir(parents=True, exist_ok=True)
    give(mail / "processed", NOBODY)
    lock_out(mail / folder)
    done = as_user(home, "tick", "--now", "2027-01-04T15:01:00Z")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: cannot move message ") and "Permission denied" in done.stderr
    assert len(list((mail / "inbox" / "new").iterdir())) == 1  # still there: filed away later
    give(mail / folder, NOBODY)
    os.chmod(mail / folder, 0o700)
    again = as_user(home, "tick", "--now", "2027-01-04T15:02:00Z")
    assert again.returncode == 0, again.stderr
    assert list((mail / "inbox" / "new").iterdir()) == [] and len(list((mail / "processed" / "cur").iterdir())) == 1
    listed = json.loads(as_user(home, "inbox", "list", "--json").stdout)
    assert [(m["state"], m["kind"]) for m in listed] == [("done", "reply")]  # handled once


def test_a_file_where_the_processed_folder_should_be_is_one_line(home):
    (home / "mail" / "processed").mkdir(exist_ok=True)
    (home / "mail" / "processed" / "cur").write_text("not a folder")
    done = CliRunner().invoke(main, ["--home", str(home), "tick", "--now", "2027-01-04T15:01:00Z"])
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert done.output.startswith("error: cannot move message ") and done.output.count("\n") == 1
