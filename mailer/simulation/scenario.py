"""What ``simulate`` sets up beside the challenge: a project charter and a report-back meetup.

The sample charter (``data/charters/observability-playbook.toml``) is rewritten for the made-up
community: the lead proposes it, two members form its team, three members approve it (every
one of them must), and its open places are filled by the volunteer call the charter flow opens
once it is approved. The file is written into the home and submitted as ``charter submit``
would, so the home stays a normal one. A report-back meetup on the challenge's first days
invites its participants a few days in, so that even a short run shows the answers.
"""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer.flows.charter import lifecycle
from mailer.flows.meetup import schedule_meetup
from mailer.simulation.community import Member

SAMPLE_CHARTER = Path(__file__).resolve().parents[2] / "data" / "charters" / "observability-playbook.toml"
APPROVERS = 3
TEAM = 2
MEETUP_HOUR_UTC = 16  # 17:00 in Paris, morning in the Americas, evening in Asia
MEETUP_DAY = 3  # days after the simulation starts (earlier in a shorter run)


@dataclass
class Scenario:
    """The charter and meetup a simulation added, and who plays which part in them."""

    charter_id: int
    meetup_id: int
    approvers: frozenset[str]
    team: frozenset[str] = field(default_factory=frozenset)


def open_places(members: int) -> int:
    """Places the call offers: about one member in ten, from 2 to the charter limit of 50."""
    return max(2, min(50, members // 10))


def cast(community: list[Member]) -> tuple[list[str], list[str]]:
    """(approvers, team): members whose mail arrives and who stay all along, in community order."""
    steady = [m.email for m in community if not m.bounces and m.stop_day is None and m.away is None]
    steady = steady or [m.email for m in community]
    return steady[:APPROVERS], steady[APPROVERS:APPROVERS + TEAM]


def charter_values(sample: dict[str, Any], lead: str, sponsors: tuple[str, ...], approvers: list[str],
                   team: list[str], members: int, today: date) -> dict[str, Any]:
    """The sample charter's values with the simulated community's people in it."""
    values = {**sample, "proposer": lead, "learning_sponsors": [lead], "funding_sponsors": list(sponsors[:1]),
              "team": team, "approvers": approvers, "rule": "all", "open_places": open_places(members),
              "deadline": today + timedelta(days=14)}
    values.pop("report_back", None)  # the project ends long after any simulated run
    return values


def toml_text(values: dict[str, Any]) -> str:
    """A TOML file for flat values (text, numbers, dates, lists of text) and one-level tables."""
    lines, tables = [], []
    for key, value in values.items():
        if isinstance(value, dict):
            tables.append(f"\n[{key}]\n" + toml_text(value))
        else:
            lines.append(f"{key} = {_toml_value(value)}\n")
    return "".join(lines + tables)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, date)):
        return value.isoformat() if isinstance(value, date) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def submit_charter(db: Database, home: Path, community: list[Member], lead: str, sponsors: tuple[str, ...],
                   now: datetime) -> tuple[int, list[str], list[str]]:
    """Write the community's charter into ``home`` and submit it; (charter id, approvers, team)."""
    approvers, team = cast(community)
    sample = tomllib.loads(SAMPLE_CHARTER.read_text(encoding="utf-8"))
    values = charter_values(sample, lead, sponsors, approvers, team, len(community), now.date())
    path = home / "charters" / "simulated-project.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by `simulate`: the sample charter, for the simulated community.\n"
                    + toml_text(values), encoding="utf-8")
    return lifecycle.submit(db, path, now), approvers, team


def meetup_start(start: datetime, days: int) -> datetime:
    """When the report-back meets: a few days in, or on the last day of a shorter run."""
    day = min(MEETUP_DAY, max(days - 1, 0))
    return start.replace(hour=MEETUP_HOUR_UTC, minute=0) + timedelta(days=day)


def schedule(db: Database, challenge_id: int, title: str, lead: tuple[str, str, str], speakers: list[str],
             sponsors: tuple[str, ...], start: datetime, days: int) -> int:
    """The report-back meetup for the challenge's participants; its invitations go at the next tick."""
    spec = {"title": f"Report-back: the first days of the {title}", "start": meetup_start(start, days),
            "timezone": lead[2], "duration_minutes": 45, "location": "Online",
            "online_url": "https://meet.sim.example.com/report-back",
            "description": "Three participants share what they found in their first days; questions welcome.",
            "invite": [f"challenge:{challenge_id}"], "speakers": speakers, "sponsors": list(sponsors),
            "source": "simulate"}
    return schedule_meetup(db, spec, start)


def set_up(db: Database, home: Path, community: list[Member], challenge_id: int, challenge_title: str,
           lead: tuple[str, str, str], sponsors: tuple[str, ...], start: datetime, days: int) -> Scenario:
    """Submit the charter and schedule the meetup at ``start`` (the simulation's first moment)."""
    charter_id, approvers, team = submit_charter(db, home, community, lead[0], sponsors, start)
    meetup_id = schedule(db, challenge_id, challenge_title, lead, team, sponsors, start, days)
    return Scenario(charter_id, meetup_id, frozenset(approvers), frozenset(team))
