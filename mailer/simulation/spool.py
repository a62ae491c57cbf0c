"""Mail the simulated members have written that has not arrived yet, kept on disk.

A member answers when they read, but the answer reaches the inbox minutes to days later. At
50,000 members that is tens of thousands of emails waiting at once (about 10 KB each), so their
bytes wait on disk under the simulation's own folder, appended to one file per hour of arrival
(creating a file per email cost more than writing it); memory holds only when each arrives and
where its bytes are: a few dozen bytes an email, whatever the size of the community.

``deliver`` then puts an email in the inbox as the mail server would.
"""
from __future__ import annotations

import heapq
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterator

from mailer import private
from mailer.transports.maildir import ensure_maildir, unique_name

HOUR = 3600


class Spool:
    """Emails waiting to arrive, oldest first; equal times in the order they were written."""

    def __init__(self, folder: Path) -> None:
        """Keep the waiting emails in ``folder`` (made if missing; it must hold nothing else)."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        # (arrives at as a POSIX time, order, hour file, offset, length)
        self._waiting: list[tuple[float, int, int, int, int]] = []
        self._files: dict[int, BinaryIO] = {}  # hour of arrival -> its file, open for appending
        self._sizes: dict[int, int] = {}  # hour -> bytes written to its file
        self._left: dict[int, int] = {}  # hour -> emails in its file not given yet
        self._order = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, when: datetime, raw: bytes) -> None:
        """Keep ``raw`` until ``when`` (an aware datetime)."""
        moment = when.timestamp()
        hour = int(moment // HOUR)
        if hour not in self._files:
            self._files[hour] = open(self._path(hour), "a+b")
            self._sizes[hour], self._left[hour] = 0, 0
        self._files[hour].write(raw)
        self._order += 1
        heapq.heappush(self._waiting, (moment, self._order, hour, self._sizes[hour], len(raw)))
        self._sizes[hour] += len(raw)
        self._left[hour] += 1

    def due(self, now: datetime) -> Iterator[bytes]:
        """The emails that have arrived by ``now``, in order, each forgotten once given."""
        moment = now.timestamp()
        while self._waiting and self._waiting[0][0] <= moment:
            _, _, hour, offset, length = heapq.heappop(self._waiting)
            file = self._files[hour]
            file.flush()
            raw = os.pread(file.fileno(), length, offset)
            self._left[hour] -= 1
            if not self._left[hour]:  # the hour's last email: its file goes
                self._forget(hour)
            yield raw

    def discard(self) -> None:
        """Forget what never arrived, and the folder with it."""
        for hour in list(self._files):
            self._forget(hour)
        self._waiting.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _forget(self, hour: int) -> None:
        self._files.pop(hour).close()
        del self._sizes[hour], self._left[hour]
        self._path(hour).unlink()

    def _path(self, hour: int) -> Path:
        return self.folder / f"arriving-{hour}.eml"


def deliver(inbox: Path, raws: Iterator[bytes]) -> int:
    """Put each email in the ``inbox`` Maildir as a mail server does: written in tmp/, then
    renamed into new/ (never half visible to the worker reading it); return how many.

    Without the ``fsync`` per email that ``maildir.deliver_to_inbox`` makes (1-6 ms of waiting
    each on this machine's disk, most of the members' wall time): a simulated run that is
    killed is run again, not recovered.
    """
    ensure_maildir(inbox)
    tmp, new = f"{inbox}/tmp/", f"{inbox}/new/"  # strings: a Path join per email cost more than the write
    count = 0
    for raw in raws:
        name = unique_name()
        handle = os.open(tmp + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private.FILE_MODE)
        try:
            left = memoryview(raw)
            while left:  # a regular file takes it in one write; a short write is finished
                left = left[os.write(handle, left):]
        finally:
            os.close(handle)
        os.rename(tmp + name, new + name)
        count += 1
    return count
