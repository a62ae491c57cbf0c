"""``journal export --out``: the journal and its photos are written owner-only (0700/0600)."""
from __future__ import annotations

import os
import stat
from datetime import timedelta

from click.testing import CliRunner

from mailer.cli import main
from tests.flows.challenge.test_photos import DAY2, crew_home, gmail, photo  # noqa: F401 - crew_home: a fixture


def test_exported_photos_are_owner_only(crew_home, home, tmp_path):
    crew_home.reply(crew_home.day_email("sam@corp.example.com", 2), gmail("Board.", photo(11), photo(12)),
                    DAY2 + timedelta(minutes=5))
    crew_home.tick(DAY2 + timedelta(minutes=10))
    out = tmp_path / "export"
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(main, ["--home", str(home), "journal", "export", "sam@corp.example.com",
                                           "--out", str(out)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    written = [out, *out.rglob("*")]
    assert len([p for p in written if p.is_file()]) == 3  # journal.md and two photos
    assert [p for p in written if stat.S_IMODE(p.stat().st_mode) not in (0o700, 0o600)] == []
