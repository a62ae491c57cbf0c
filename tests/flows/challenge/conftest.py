"""Fixtures for flow tests: a crew in four time zones, challenge files, and a simulated clock.

Plans go through the real outbox (``mailer.outbox.enqueue``: rendering, tokens, bytes in
SQLite), so every planned email is also rendered with the real templates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import outbox
from mailer.flows.challenge import flow as challenge
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.challenge.definition import start_challenge
from mailer.inbound.message import ParsedMessage
from mailer.store.people import add_person
from tests.conftest import file_writer

UTC = timezone.utc
CREW = (("aiko@corp.example.com", "Aiko Tanaka", "Asia/Tokyo"),
        ("priya@corp.example.com", "Priya Sharma", "Asia/Kolkata"),
        ("oliver@corp.example.com", "Oliver Bennett", "Europe/London"),
        ("sam@corp.example.com", "Sam Carter", "America/New_York"))
BEFORE = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)


def challenge_toml(length: int = 30, participants: str = '"all"', partners: bool = True,
                   extra: str = "") -> str:
    """The text of a valid challenge file with ``length`` numbered days."""
    days = "".join(f'\n[[days]]\ntitle = "Practice {n}"\nactivity = """\nDo **thing {n}** for 20 minutes.\n\n'
                   f'- note what you saw\n- write it down\n"""\n' for n in range(1, length + 1))
    return (f'title = "DevOps 30-day challenge"\ndomain = "DevOps"\ndescription = "Small steps."\n'
            f'start = 2027-01-04\nlength = {length}\nsend_hour = 8\nparticipants = {participants}\n'
            f'partners = {"true" if partners else "false"}\nsponsors = ["sponsor@corp.example.com"]\n'
            f'{extra}{days}')


@dataclass
class Sim:
    """A worker on an injected clock: ``tick(now)`` plans what is due and enqueues it."""

    db: object
    settings: object
    planned: list[tuple[datetime, PlannedEmail]] = field(default_factory=list)

    def tick(self, now: datetime) -> list[PlannedEmail]:
        plans = list(challenge.due(self.db, now, self.settings))
        outbox.enqueue(self.db, plans, now, self.settings)
        self.planned.extend((now, p) for p in plans)
        return plans

    def run(self, start: datetime, end: datetime, step: timedelta = timedelta(minutes=30),
            down: tuple[datetime, datetime] | None = None) -> None:
        moment = start
        while moment <= end:
            if down is None or not down[0] <= moment < down[1]:
                self.tick(moment)
            moment += step

    def reply(self, email: str, ref: str, text: str, intent: str, now: datetime) -> list[PlannedEmail]:
        person = next(p for p in self.people() if p["email"] == email)
        plans = challenge.handle_reply(self.db, routed(person, ref, text, intent, now), now, self.settings)
        outbox.enqueue(self.db, plans, now, self.settings)
        self.planned.extend((now, p) for p in plans)
        return plans

    def people(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM people"))

    def keys(self, *parts: str) -> list[str]:
        return [p.key for _, p in self.planned if all(part in p.key for part in parts)]


_counter = iter(range(1, 1_000_000))


def routed(person: dict, ref: str, text: str, intent: str, now: datetime,
           purpose: str | None = None) -> RoutedReply:
    """A reply as routing hands it to the flow."""
    number = next(_counter)
    message = ParsedMessage(message_id=f"<reply{number}@corp.example.com>", from_addr=person["email"],
                            from_name=person["name"], subject="Re: Day", in_reply_to=[], references=[],
                            recipients=[], headers=[], content_type="text/plain", text=text)
    return RoutedReply(person_id=person["id"], person_email=person["email"],
                       purpose=purpose or ("journal" if ":day:" in ref else "challenge_join"), ref=ref,
                       message=message, reply_text=text, intent=intent, received_at=now)


@pytest.fixture
def crew(db) -> dict[str, int]:
    """Four people in Tokyo, Kolkata, London and New York: email -> id."""
    return {email: add_person(db, email, name, tz, ("member",)) for email, name, tz in CREW}


@pytest.fixture
def write_challenge(tmp_path: Path):
    """Write a challenge file and return its path."""
    return file_writer(tmp_path, "challenge.toml", challenge_toml)


@pytest.fixture
def sim(db, settings) -> Sim:
    """The simulated worker over the test database."""
    return Sim(db, settings)


@pytest.fixture
def started(db, crew, write_challenge):
    """The crew's 30-day challenge, started well before 4 Jan 2027."""
    return start_challenge(db, write_challenge(), BEFORE)
