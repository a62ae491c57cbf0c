"""``run.py backup`` while a worker runs and writes, and ``run.py restore`` back into a home."""
from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.transports.maildir import deliver_to_inbox

ROOT = Path(__file__).resolve().parents[1]


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def reply(n: int) -> bytes:
    return (f"From: Sam Carter <sam.carter@corp.example.com>\r\nTo: cop@example.test\r\n"
            f"Message-ID: <backup-{n}@corp.example.com>\r\nSubject: Re: day {n}\r\n\r\n"
            f"Entry number {n}.\r\n").encode()


def latest_inbox_id(db_path: Path) -> int:
    """The newest inbox row committed in the live database, read as another process would."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT coalesce(max(id), 0) FROM inbox").fetchone()[0]
    finally:
        conn.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class Worker:
    """The real worker in its own process (ticking every second), and a thread dropping replies
    into its Maildir inbox, so the database is written while a backup runs."""

    def __init__(self, home: Path) -> None:
        self.home, self.stop, self.sent = home, threading.Event(), 0
        self.process = subprocess.Popen([sys.executable, "run.py", "--home", str(home)], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._deliver, daemon=True)
        self.thread.start()

    def _deliver(self) -> None:
        while not self.stop.is_set():
            self.sent += 1
            deliver_to_inbox(self.home / "mail", reply(self.sent))
            self.stop.wait(0.05)

    def wait_for_rows(self, count: int) -> None:
        deadline = time.monotonic() + 120
        while latest_inbox_id(self.home / "mailer.db") < count:
            assert time.monotonic() < deadline and self.process.poll() is None, self.process.stderr.read()
            time.sleep(0.1)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.process.send_signal(signal.SIGINT)
        self.process.communicate(timeout=60)


@pytest.fixture
def worker_home(tmp_path):
    home = tmp_path / "live"
    home.mkdir()
    (home / "mailer.toml").write_text('[mailer]\ndata = "sample"\n[worker]\ninterval_seconds = 1\n')
    assert run(home, "tick", "--now", "2027-01-04T14:00:00Z").exit_code == 0
    worker = Worker(home)
    yield worker
    worker.close()


def test_backup_while_the_worker_writes_holds_the_latest_committed_row(worker_home, tmp_path):
    home = worker_home.home
    worker_home.wait_for_rows(3)
    for n in range(3):
        committed = latest_inbox_id(home / "mailer.db")  # committed before the backup starts
        dest = tmp_path / f"backup-{n}"
        result = run(home, "backup", str(dest))
        assert result.exit_code == 0, result.output
        copy = sqlite3.connect(dest / "mailer.db")
        assert copy.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM inbox WHERE id <= ?", [committed]).fetchone()[0] == committed
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal needed
        copy.close()
        assert sorted(p.name for p in dest.iterdir()) == ["mailer.db", "mailer.toml"]
        assert mode(dest) == 0o700 and mode(dest / "mailer.db") == 0o600 and mode(dest / "mailer.toml") == 0o600
        worker_home.wait_for_rows(committed + 2)  # the worker went on writing meanwhile
    assert worker_home.process.poll() is None  # the backups never stopped the worker


def test_restore_is_refused_while_a_worker_runs_on_the_home(worker_home, tmp_path):
    home = worker_home.home
    worker_home.wait_for_rows(1)
    assert run(home, "backup", str(tmp_path / "b")).exit_code == 0
    result = run(home, "restore", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: another worker (pid {worker_home.process.pid}) is running on this home")


def test_restore_brings_a_home_back_and_the_worker_goes_on_from_there(worker_home, tmp_path):
    worker_home.wait_for_rows(2)
    committed = latest_inbox_id(worker_home.home / "mailer.db")
    assert run(worker_home.home, "backup", str(tmp_path / "b")).exit_code == 0
    back = tmp_path / "back"
    result = run(back, "restore", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert mode(back) == 0o700 and mode(back / "mailer.db") == 0o600 and mode(back / "mailer.toml") == 0o600
    assert latest_inbox_id(back / "mailer.db") >= committed
    deliver_to_inbox(back / "mail", reply(10_000))
    ticked = run(back, "tick", "--now", "2027-01-04T15:00:00Z", "--json")
    assert ticked.exit_code == 0, ticked.output
    assert latest_inbox_id(back / "mailer.db") > committed
    again = run(back, "restore", str(tmp_path / "b"))  # the home has a database now: never overwritten
    assert again.exit_code == 2 and f"{back} already has mailer.db" in again.output


def test_backup_refuses_a_folder_that_holds_something(tmp_path):
    home = tmp_path / "h"
    assert run(home, "tick", "--now", "2027-01-04T14:00:00Z").exit_code == 0
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "other").write_text("x")
    result = run(home, "backup", str(tmp_path / "full"))
    assert result.exit_code == 2 and "is not an empty folder" in result.output
    missing = run(tmp_path / "nothing-here", "backup", str(tmp_path / "b2"))
    assert missing.exit_code == 2 and "no database at" in missing.output
