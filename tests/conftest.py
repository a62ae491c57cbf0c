"""Shared fixtures: a fresh home folder with real SQLite and Maildir, and a fixed clock."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from mailer.config import load_settings
from mailer.store import open_db

pytest_plugins = ["tests.rig", "tests.caldav_rig"]

# Property tests (Hypothesis) run the same examples on every run, with no time limit per
# example: a red suite then names a bug, never the luck of the draw or a slow machine (the
# default 200 ms deadline). HYPOTHESIS_PROFILE=explore draws new examples each run, to look
# for more (docs/testing.md).
hypothesis_settings.register_profile("suite", derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

NOW = datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc)


def file_writer(folder: Path, default_name: str, default_text):
    """A ``write(text=None, name=default_name)`` that writes a flow file (``default_text()``
    when no text is given) into ``folder`` and returns its path: the write_* fixtures."""
    def write(text: str | None = None, name: str = default_name) -> Path:
        path = folder / name
        path.write_text(text if text is not None else default_text(), encoding="utf-8")
        return path
    return write


@pytest.fixture
def ews():
    """A fresh local EWS server for the mailbox ``cop@corp.example.com`` (tests/ews_server.py);
    exchangelib's protocol cache is cleared after (notes/exchange.md pitfall 1; in exchangelib
    5.6 clear_cache lives on Protocol, not BaseProtocol)."""
    from exchangelib.protocol import Protocol

    from tests.ews_server import EwsServer

    server = EwsServer("cop@corp.example.com").start()
    yield server
    server.stop()
    Protocol.clear_cache()


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


def write_rig_home(home: Path, rig, mailer_user, **sections: dict) -> Path:
    """A home whose mailer.toml uses the real SMTP/IMAP rig as ``mailer_user``."""
    home.mkdir(parents=True, exist_ok=True)
    table = {
        "mailer": {"data": "none", "address": mailer_user.address},
        "transport": {"kind": "smtp-imap"},
        "smtp": {"host": rig.host, "port": rig.smtp_port, "security": "none",
                 "user": mailer_user.name, "password": mailer_user.password},
        "imap": {"host": rig.host, "port": rig.imap_port, "security": "none",
                 "user": mailer_user.name, "password": mailer_user.password},
    }
    for name, values in sections.items():
        table.setdefault(name, {}).update(values)
    lines = []
    for name, values in table.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in values.items()]
    (home / "mailer.toml").write_text("\n".join(lines) + "\n")
    os.chmod(home / "mailer.toml", 0o600)  # it holds passwords: others may not read it
    return home
