"""One worker per home: a second worker, or a tick, is refused with the first one's pid."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main
from mailer.homelock import HomeLock

ROOT = Path(__file__).resolve().parents[1]


def cli(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def test_a_tick_is_refused_while_a_worker_holds_the_home(home):
    held = HomeLock(home)
    held.acquire()
    try:
        result = cli(home, "tick")
    finally:
        held.release()
    assert result.exit_code == 2
    assert result.output.startswith(f"error: another worker (pid {os.getpid()}) is running on this home")
    assert "database is locked" not in result.output
    assert cli(home, "tick").exit_code == 0  # released: the next one runs


def test_the_lock_is_released_when_a_command_ends(home):
    assert cli(home, "tick").exit_code == 0
    assert cli(home, "tick").exit_code == 0
    assert (home / "worker.lock").read_text().strip().isdigit()


def test_a_second_worker_process_exits_with_the_first_ones_pid(home):
    first = subprocess.Popen([sys.executable, "run.py", "--home", str(home)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "Ctrl-C to stop" in first.stdout.readline()  # the lock is held once this is printed
        second = subprocess.run([sys.executable, "run.py", "--home", str(home)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        tick = subprocess.run([sys.executable, "run.py", "--home", str(home), "tick"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    for other in (second, tick):
        assert other.returncode == 2, other.stderr
        assert other.stderr.strip() == (f"error: another worker (pid {first.pid}) is running on this home "
                                        f"({home}); stop it first, or let it do the work")
    assert first.returncode == 0
