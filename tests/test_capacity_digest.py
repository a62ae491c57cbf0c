"""The lead's digest says in words when the pace made emails late (issue 24), through the worker."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer.config import load_settings
from mailer.flows.challenge.definition import start_challenge
from mailer.store import open_db, people
from tests.flows.challenge.conftest import BEFORE, challenge_toml
from tests.flows.digest.test_digest import World, body

UTC = timezone.utc
LEAD = "lia@corp.example.com"


def paced_world(tmp_path: Path, per_day: int) -> World:
    """30 members in London and a lead in Paris, the challenge for all, at ``per_day`` a day."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n'
                                      f'[transport]\npace = "custom"\nper_day = {per_day}\n')
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for n in range(30):
        people.add_person(db, f"m{n}@corp.example.com", f"Member {n}", "Europe/London", ("member",))
    people.add_person(db, LEAD, "Lia Moreau", "Europe/Paris", ("member", "lead"))
    path = tmp_path / "challenge.toml"
    path.write_text(challenge_toml())
    start_challenge(db, path, BEFORE)
    return World(db, settings)


@pytest.mark.parametrize("per_day, late", [(60, True), (1_000, False)])
def test_the_leads_digest_says_when_emails_went_out_late(tmp_path, per_day, late):
    world = paced_world(tmp_path, per_day)
    # 31 announcements at midnight, then 31 day emails a day against 60 a day: 2 of day 1's wait
    # until the announcements leave the window; on day 8, 31 nudges of silent people hold the
    # digest itself until the next morning
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 12, 12, tzinfo=UTC), timedelta(hours=1))
    lead = body(world.digests(LEAD)[0])
    assert ("SENT LATE" in lead) is late
    if late:
        assert "emails sent in this period left more than an hour after they were due" in lead
        assert "(most of them \"Day 1 of 30" in lead and "run.py status" in lead
        assert "Sent late" in lead  # the HTML part says it too
    world.db.close()
