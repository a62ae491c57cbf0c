"""The application object the CLI passes around: home folder, settings, database, transport.

Everything is opened lazily, so ``--help`` and ``explain`` work without touching the home.
A database created for the first time is seeded from ``mailer.data`` (the sample community by
default), so a newcomer's first run has people and a challenge to mail.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from sqlite_utils import Database

from mailer import private
from mailer.config import Settings, load_settings
from mailer.homelock import HomeLock
from mailer.store import open_db
from mailer.transports import make_transport
from mailer.transports.base import Transport

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "data"


class App:
    """Lazily opened parts of one cop-mailer home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.lock = HomeLock(home)
        # When a home created now is seeded (its sample challenge starts the Monday after):
        # the command's ``--now`` when it gave one (cli/now.py), else the wall clock.
        self.seed_time: datetime | None = None

    def hold_worker_lock(self) -> None:
        """Become this home's only worker (``HomeBusyError`` if another one runs); released
        by ``close``. Taken before the database is opened."""
        self.lock.acquire()

    @cached_property
    def settings(self) -> Settings:
        """Settings from ``home/mailer.toml``."""
        return load_settings(self.home)

    @cached_property
    def db(self) -> Database:
        """The migrated database, seeded on first creation."""
        private.make_dir(self.home)
        fresh = not self.settings.db_path.exists()
        db = open_db(self.settings.db_path)
        if fresh:
            from mailer.bootstrap import seed

            seed(db, self.seed_folder(), self.seed_time or datetime.now(timezone.utc))
        return db

    def seed_folder(self) -> Path | None:
        """Where the first run's people and challenges come from, if anywhere."""
        data = self.settings.mailer_data
        if data == "none":
            return None
        if data == "sample":
            return SAMPLE_DATA
        path = Path(data)
        return path if path.is_absolute() else self.home / path

    @cached_property
    def transport(self) -> Transport:
        """The configured transport (opened on first use)."""
        return make_transport(self.settings, self.db)

    def close(self) -> None:
        """Close the transport and the database if they were opened."""
        if "transport" in self.__dict__:
            self.transport.close()
        if "db" in self.__dict__:
            self.db.close()
        self.lock.release()
