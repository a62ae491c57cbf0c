"""Shared fixtures: a fresh home folder with real SQLite and Maildir, and a fixed clock."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailer.config import load_settings
from mailer.store import open_db

NOW = datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home folder whose mailer.toml starts with no seed data."""
    path = tmp_path / "home"
    path.mkdir()
    (path / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n')
    return path


@pytest.fixture
def settings(home: Path):
    """Settings of that home."""
    return load_settings(home, env={})


@pytest.fixture
def db(settings):
    """A real SQLite file, migrated."""
    database = open_db(settings.db_path)
    yield database
    database.close()


@pytest.fixture
def now() -> datetime:
    """A fixed, timezone-aware clock reading."""
    return NOW
