"""One worker per home: an advisory lock file, ``HOME/worker.lock``, holding the worker's pid.

The worker and ``tick`` take it before they open the database; a second one is refused with
the pid of the first instead of racing it into "database is locked". ``flock`` locks go away
with the process, so a worker killed with -9 leaves nothing to clean up (the stale pid in the
file is overwritten by the next holder).
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from mailer import private
from mailer.errors import HomeBusyError

LOCK_NAME = "worker.lock"


class HomeLock:
    """The lock of one home; ``acquire`` raises ``HomeBusyError`` when another process holds it."""

    def __init__(self, home: Path) -> None:
        """Name the lock file under ``home`` (nothing is opened yet)."""
        self.path = Path(home) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting and write our pid into the file."""
        if self.fd is not None:
            return
        private.make_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, private.FILE_MODE)
        os.fchmod(fd, private.FILE_MODE)  # a lock file from an older version was 0644
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise HomeBusyError(f"another worker (pid {holder}) is running on this home "
                                f"({self.path.parent}); stop it first, or let it do the work") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        """Let go of the lock (closing the file releases it)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else "unknown"
