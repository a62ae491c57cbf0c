"""``simulate``: the real worker on a simulated clock; its report agrees with the store."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main
from mailer.config import load_settings
from mailer.simulation import simulate
from mailer.simulation.community import make_community
from mailer.store import challenges, open_db, people
from mailer.store import outbox as outbox_store


def test_a_small_community_for_three_days_matches_the_store(tmp_path: Path):
    home = tmp_path / "sim"
    report = simulate(home, members=40, days=3, reply_rate=0.7, seed=5)
    db = open_db(load_settings(home, env={}).db_path)
    total = report.totals()
    cid = challenges.list_challenges(db)[0]["id"]
    assert total["sent"] == outbox_store.counts(db).get("sent", 0) > 40
    assert total["journaled"] == challenges.count_entries(db, cid)
    assert 0 < total["journaled"] <= total["replies_written"]  # automatic replies are never entries
    assert total["bounced"] == people.count_with_status(db, "bounced")
    assert total["bounced"] <= sum(m.bounces for m in make_community(40, 3, 5))
    entries = [e["text"] for p in challenges.list_participants(db, cid) for e in challenges.entries(db, p["person_id"])]
    assert entries and not any(tail in text for text in entries
                               for tail in ("Best regards", "Sent from my iPhone", "Von meinem iPhone", "wrote:"))


def test_the_same_seed_gives_the_same_community():
    assert make_community(50, 30, 9) == make_community(50, 30, 9)
    assert make_community(50, 30, 9) != make_community(50, 30, 10)


def test_the_command_refuses_a_home_that_holds_a_community_and_speaks_json(tmp_path: Path):
    home = tmp_path / "sim"
    runner = CliRunner()
    result = runner.invoke(main, ["--home", str(home), "simulate", "--members", "5", "--days", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["members"] == 5 and len(data["per_day"]) == 1 and data["totals"]["sent"] >= 5
    again = runner.invoke(main, ["--home", str(home), "simulate", "--members", "5", "--days", "1"])
    assert again.exit_code == 2 and "already holds a community" in again.output
