"""A database that is corrupt, locked, read-only or full ends a command with one plain line and
exit code 2, never a traceback, and no incoming message is filed away before it is stored."""
from __future__ import annotations

import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import mailer.app
import mailer.store
from mailer.cli import main
from mailer.store import open_db
from mailer.transports.maildir import deliver_to_inbox, list_messages

ROOT = Path(__file__).resolve().parents[2]
REPLY = (b"From: Ann <ann@corp.example.com>\r\nTo: cop@example.test\r\nSubject: Re: Day 1\r\n"
         b"Message-ID: <r1@corp.example.com>\r\n\r\n" + b"Mapped the pipeline today.\r\n" * 2_000)


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    """The real program in its own process, as a person runs it."""
    return subprocess.run([sys.executable, "run.py", "--home", str(home), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def made(home: Path, reply: bytes = REPLY) -> Path:
    """A migrated database with some pages, and one reply waiting in mail/inbox."""
    db = open_db(home / "mailer.db")
    db["filler"].insert_all({"n": n, "text": "x" * 200} for n in range(2_000))
    db.close()
    deliver_to_inbox(home / "mail", reply)
    return home / "mailer.db"


def still_waiting(home: Path) -> bool:
    """The reply is still in the inbox and nothing reached processed/."""
    return len(list_messages(home / "mail" / "inbox")) == 1 and not list_messages(home / "mail" / "processed")


def corrupt(path: Path) -> None:
    """Overwrite pages in the middle of the file, as a bad disk or a stray copy would."""
    with open(path, "r+b") as handle:
        handle.seek(8 * 4096)
        handle.write(b"\xde\xad\xbe\xef" * 4096)


def test_a_corrupt_database_stops_tick_before_any_mailbox_is_touched(home):
    corrupt(made(home))
    result = run_cli(home, "tick")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: database ") and "is corrupt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert still_waiting(home)


def test_the_worker_refuses_a_corrupt_database_before_reading_mail(home):
    corrupt(made(home))
    result = run_cli(home)  # the worker: it must stop at once, not loop
    assert result.returncode == 2 and "is corrupt" in result.stderr and "Traceback" not in result.stderr
    assert still_waiting(home)


def test_a_file_that_is_not_a_database_is_one_line(home):
    (home / "mailer.db").write_bytes(b"this is not sqlite\n" * 100)
    result = run_cli(home, "status")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "is corrupt or not a database" in result.stderr


def test_open_db_runs_quick_check(home):
    path = made(home)
    corrupt(path)
    with pytest.raises(mailer.store.StoreError, match="is corrupt"):
        open_db(path)


def opened_with(monkeypatch, *pragmas: str) -> None:
    """Every database the CLI opens gets ``pragmas`` after opening: a real SQLite refusal."""
    real = mailer.app.open_db

    def opening(path):
        db = real(path)
        for pragma in pragmas:
            db.conn.execute(pragma.format(pages=db.execute("PRAGMA page_count").fetchone()[0]))
        return db
    monkeypatch.setattr(mailer.app, "open_db", opening)


@pytest.mark.parametrize("pragma, says", [
    ("PRAGMA query_only = ON", "is read-only"),           # SQLITE_READONLY, as for a read-only file
    ("PRAGMA max_page_count = {pages}", "cannot grow: the disk is full"),  # SQLITE_FULL, as for a full disk
])
def test_a_read_only_or_full_database_keeps_the_reply_in_the_inbox(home, monkeypatch, pragma, says):
    made(home)
    opened_with(monkeypatch, pragma)
    result = CliRunner().invoke(main, ["--home", str(home), "tick"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: database {home / 'mailer.db'} {says}")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert still_waiting(home)  # transport.done only after the message is stored


def test_a_locked_database_is_one_line_not_a_traceback(home, monkeypatch):
    made(home)
    monkeypatch.setattr(mailer.store, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(home / "mailer.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        result = CliRunner().invoke(main, ["--home", str(home), "tick"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 2, result.output
    assert "is locked by another process" in result.output and "Traceback" not in result.output
    assert still_waiting(home)


def with_file_size_limit(limit: int):
    """For a child process: files may not grow past ``limit`` bytes (a full disk, for real);
    SIGXFSZ ignored, so a write past it fails with EFBIG as a full disk fails with ENOSPC."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("command", [("tick",), ()])  # tick, and the worker itself
def test_a_full_disk_stops_tick_and_the_worker_with_one_line_and_keeps_the_reply(home, command):
    made(home, REPLY * 10)  # 560 KB: more than the disk can take
    result = subprocess.run([sys.executable, "run.py", "--home", str(home), *command], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            preexec_fn=with_file_size_limit(300_000))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: database ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert still_waiting(home)
