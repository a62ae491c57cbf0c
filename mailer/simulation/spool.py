"""Mail the simulated members have written that has not arrived yet, kept on disk.

A member answers when they read, but the answer reaches the inbox minutes to days later. At
50,000 members that is tens of thousands of emails waiting at once (about 10 KB each), so their
bytes wait in files, one per email, under the simulation's own folder; memory holds only when
each arrives and in what order: a few dozen bytes an email, whatever the size of the community.
"""
from __future__ import annotations

import heapq
import shutil
from datetime import datetime
from pathlib import Path
from typing import Iterator


class Spool:
    """Emails waiting to arrive, oldest first; equal times in the order they were written."""

    def __init__(self, folder: Path) -> None:
        """Keep the waiting emails in ``folder`` (made if missing; it must hold nothing else)."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._waiting: list[tuple[float, int]] = []  # (arrives at as a POSIX time, order)
        self._order = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, when: datetime, raw: bytes) -> None:
        """Keep ``raw`` until ``when`` (an aware datetime)."""
        self._order += 1
        self._path(self._order).write_bytes(raw)
        heapq.heappush(self._waiting, (when.timestamp(), self._order))

    def due(self, now: datetime) -> Iterator[bytes]:
        """The emails that have arrived by ``now``, in order, each forgotten once given."""
        moment = now.timestamp()
        while self._waiting and self._waiting[0][0] <= moment:
            path = self._path(heapq.heappop(self._waiting)[1])
            raw = path.read_bytes()
            path.unlink()
            yield raw

    def discard(self) -> None:
        """Forget what never arrived, and the folder with it."""
        self._waiting.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, order: int) -> Path:
        return self.folder / f"{order:09d}.eml"
