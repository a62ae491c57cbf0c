"""``simulate``: a whole community on a simulated clock, for a demo and as a load generator.

- ``community``: made-up members over real time zones, each with habits (client, language,
  how often they answer, a pause, a stop, an out-of-office, a dead address);
- ``writing``: what they send back (entries with sign-offs, requests, automatic replies, DSNs);
- ``replies``: what a mail client sends when a person presses Reply (also ``run.py reply``);
- ``calendar_client``: what a calendar sends when a person presses Accept, Decline or Maybe
  (``reading``: what it reads of our invitation, the calendar part alone);
- ``mime``: their mail written as bytes, as the stdlib writes it but faster;
- ``scenario``: beside the challenge, the sample charter (approvers, a volunteer call once it
  is approved) and a report-back meetup a few days in;
- ``projects``: members answering those, and what they meant held against the store;
- ``run``: the loop: the real worker ticking hour by hour on the real Maildir transport, and
  members reading what it sent;
- ``spool``: what members wrote, waiting on disk (``<home>/simulation``) until it arrives.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import Callable

from mailer import private
from mailer.config import load_settings
from mailer.errors import ConfigError
from mailer.flows.challenge.definition import load_definition, start_challenge
from mailer.simulation import scenario
from mailer.simulation.community import make_community
from mailer.simulation.projects import ProjectMembers
from mailer.simulation.run import Report, Simulation
from mailer.store import open_db, people
from mailer.transports import make_transport

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "challenges" / "devops-30.toml"
LEAD = ("lead@sim.example.com", "Lia Moreau", "Europe/Paris")


def simulate(home: Path, members: int, days: int, reply_rate: float = 0.6, seed: int = 1,
             challenge_file: Path | None = None, progress: Callable[[int], None] = lambda n: None,
             projects: bool = True) -> Report:
    """Build a community of ``members`` in a fresh ``home``, start a challenge, run ``days`` days.

    With ``projects`` (the default) a charter, its volunteer call and a report-back meetup run
    beside the challenge (``scenario``); without, the challenge alone.
    """
    if (home / "mailer.db").exists() or (home / "mailer.toml").exists():
        raise ConfigError(f"{home} already holds a community; simulate needs a fresh home folder")
    private.make_dir(home)
    private.write_file(home / "mailer.toml", '[mailer]\nsite_name = "Simulated Community"\ndata = "none"\n'
                       'address = "cop@sim.example.com"\n')
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    path = challenge_file or SAMPLE
    definition = load_definition(path)
    start = datetime.combine(definition.start - timedelta(days=1), dtime(0), timezone.utc)
    t0 = time.perf_counter()
    community = make_community(members, days, seed)
    with db.atomic():
        # Each member reads their emails in the language they write in (docs/languages.md).
        people.insert_people(db, [(m.email, m.name, m.timezone, "member", m.language) for m in community])
        people.add_person(db, *LEAD, ("member", "lead"))
        for n, sponsor in enumerate(definition.sponsors, start=1):
            people.add_person(db, sponsor, f"Sponsor {n}", "America/Chicago", ("sponsor",))
    # only the id is kept: what start_challenge returns names every participant (50,000 rows)
    challenge_id = start_challenge(db, path, start).challenge_id
    report = Report(members=members, days=days, seed=seed, reply_rate=reply_rate, projects=projects)
    sim = Simulation(db, make_transport(settings), settings, community, challenge_id, reply_rate, seed,
                     home / "simulation")
    if projects:
        cast = scenario.set_up(db, home, community, challenge_id, definition.title, LEAD,
                               definition.sponsors, start, days)
        sim.projects = ProjectMembers(cast, random.Random(seed + 2), reply_rate, sim.later)
    setup = time.perf_counter() - t0
    sim.run(start, days * 24, report, progress)
    report.stages = {"setup_s": round(setup, 2), **report.stages}
    db.close()
    return report


__all__ = ["Report", "simulate"]
