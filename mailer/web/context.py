"""What every page of `serve` works with: the home, its settings, the link signer and a clock.

The database is opened once per server thread (Starlette runs plain ``def`` endpoints in a
thread pool and a SQLite connection belongs to the thread that opened it); the store's verbs
do the rest, as they do for the CLI.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlite_utils import Database

from mailer.config import Settings, load_settings
from mailer.store import open_db
from mailer.web.tokens import Signer, home_signer


def wall_clock() -> datetime:
    """The current time, timezone-aware (UTC): `serve`'s one reading of the clock."""
    return datetime.now(timezone.utc)


@dataclass
class WebContext:
    """One home as the web pages see it."""

    home: Path
    settings: Settings
    signer: Signer
    now: Callable[[], datetime] = wall_clock
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def db(self) -> Database:
        """This thread's connection to the home's database (opened and migrated on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_db(self.settings.db_path)
        return db

    def url(self, path: str) -> str:
        """``path`` under the public ``[web] base_url`` (as is when none is set)."""
        return f"{self.settings.web_base_url}{path}"


def clock_from(start: datetime | None) -> Callable[[], datetime]:
    """The wall clock, or one that read ``start`` when made and runs on from there (``serve
    --now``: trying a challenge's later days, and the browser tests)."""
    if start is None:
        return wall_clock
    offset = start - wall_clock()
    return lambda: wall_clock() + offset


def load_context(home: Path, now: Callable[[], datetime] = wall_clock) -> WebContext:
    """The context of ``home``: its settings and its signing keys (made on first use)."""
    settings = load_settings(home)
    return WebContext(home=home, settings=settings, signer=signer_for(settings, now), now=now)


def signer_for(settings: Settings, now: Callable[[], datetime] = wall_clock) -> Signer:
    """The link signer of ``settings``' home: its kept keys, and ``[web] secret`` when set."""
    return home_signer(settings.home, now, settings.web_link_days, settings.web_old_key_days,
                       settings.web_secret)
