"""Kill -9 the worker while it reads 1,500 replies, then restart it: each is handled exactly once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.challenge import timing as ct
from mailer.flows.challenge.definition import load_definition, start_challenge
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import open_db, people
from mailer.transports.maildir import deliver_to_inbox

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "data" / "challenges" / "devops-30.toml"
COUNT = 1500


def tick(home: Path, now, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``run.py tick`` for ``home`` in a subprocess; ``env`` adds to the environment (kill points)."""
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home), "tick", "--json",
                             "--now", now.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})


def count(db, sql: str) -> int:
    return db.execute(sql).fetchone()[0]


@pytest.mark.slow
def test_kill_9_mid_inbox_handles_every_reply_once(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n\n'
                                      "[outbox]\nbatch = 1\n", encoding="utf-8")
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    with db.atomic():
        for n in range(COUNT):
            people.add_person(db, f"m{n:04d}@corp.example.com", f"Member {n}", "UTC", ("member",))
    definition = load_definition(CHALLENGE)
    day1 = ct.opens_at(definition.start, 1, definition.send, "UTC") + timedelta(minutes=1)
    start_challenge(db, CHALLENGE, day1 - timedelta(days=3))
    worker.plan_due(db, day1 - timedelta(days=2), settings)
    worker.plan_due(db, day1, settings)
    rows = list(db.query("SELECT to_addr, data FROM outbox JOIN outbox_data USING (id) WHERE key LIKE 'challenge:%:day:1:%'"))
    assert len(rows) == COUNT
    for n, row in enumerate(rows):
        text = f"Entry number {n}: mapped the pipeline.\n\nBest regards,\nMember {n}"
        deliver_to_inbox(settings.mail_dir, compose_reply(row["data"], row["to_addr"], f"Member {n}", text,
                                                          CLIENTS[n % len(CLIENTS)], day1))

    later = day1 + timedelta(hours=1)
    first = tick(home, later)
    deadline = time.monotonic() + 120
    while count(db, "SELECT count(*) FROM inbox") < 400 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.02)
    assert first.poll() is None, "the worker finished before it could be killed; raise COUNT"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    kept = count(db, "SELECT count(*) FROM inbox")
    filed = len(list((settings.mail_dir / "processed" / "cur").iterdir()))
    assert 0 < kept < COUNT and filed <= kept  # nothing was filed away before its effect was kept

    restarted = tick(home, later + timedelta(minutes=1))
    _, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err.decode()
    assert count(db, "SELECT count(*) FROM inbox WHERE state = 'done'") == COUNT
    assert count(db, "SELECT count(*) FROM journal_entries") == COUNT, "a reply was lost or handled twice"
    assert count(db, "SELECT count(DISTINCT message_id) FROM journal_entries") == COUNT
    assert not list((settings.mail_dir / "inbox" / "new").iterdir())
    assert len(list((settings.mail_dir / "processed" / "cur").iterdir())) == COUNT
