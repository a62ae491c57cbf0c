"""Fixtures for call tests: a community in four time zones, call files, and replies as routing
hands them to the flow. Plans go through the real outbox, so every email is also rendered."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailer import outbox
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.call import flow
from mailer.flows.call.definition import load_spec, open_call
from mailer.inbound.commands import interpret
from mailer.inbound.message import ParsedMessage
from mailer.store.people import add_person
from tests.conftest import file_writer

UTC = timezone.utc
OPENED = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
CLOSES = "2027-01-20"
PEOPLE = (("aiko@corp.example.com", "Aiko Tanaka", "Asia/Tokyo", ("member",)),
          ("priya@corp.example.com", "Priya Sharma", "Asia/Kolkata", ("member",)),
          ("oliver@corp.example.com", "Oliver Bennett", "Europe/London", ("member",)),
          ("sam@corp.example.com", "Sam Carter", "America/New_York", ("member",)),
          ("lena@corp.example.com", "Lena Fischer", "Europe/Berlin", ("member", "lead")),
          ("sponsor@corp.example.com", "Sofia Sponsor", "Europe/Madrid", ("sponsor",)))
AIKO, PRIYA, OLIVER, SAM, LENA = (p[0] for p in PEOPLE[:5])


def call_toml(roles: str | None = None, extra: str = "") -> str:
    """A valid call file: writer (2 places) and reviewer (1), closing 20 Jan 2027."""
    if roles is None:
        roles = ('[[roles]]\nname = "writer"\nplaces = 2\ndescription = "Drafts two chapters"\n'
                 '[[roles]]\nname = "reviewer"\nplaces = 1\n')
    return (f'title = "Playbook writers"\ndescription = "Help write the **observability** playbook."\n'
            f'to = "all"\ncloses = {CLOSES}\nsender = "lena@corp.example.com"\n{extra}{roles}')


@dataclass
class Sim:
    """The call flow on an injected clock: ticks plan what is due, replies go to handle_reply."""

    db: object
    settings: object
    planned: list[PlannedEmail] = field(default_factory=list)

    def tick(self, now: datetime) -> list[PlannedEmail]:
        plans = list(flow.due(self.db, now, self.settings))
        outbox.enqueue(self.db, plans, now, self.settings)
        self.planned += plans
        return plans

    def reply(self, email: str, call_id: int, text: str, now: datetime) -> list[PlannedEmail]:
        person = next(self.db.query("SELECT * FROM people WHERE email = ?", [email]))
        plans = flow.handle_reply(self.db, routed(person, call_id, text, now), now, self.settings)
        outbox.enqueue(self.db, plans, now, self.settings)
        self.planned += plans
        return plans

    def to(self, email: str, kind: str) -> list[PlannedEmail]:
        return [p for p in self.planned if p.to == email and f":{kind}:" in p.key + ":"]


_counter = iter(range(1, 1_000_000))


def routed(person: dict, call_id: int, text: str, now: datetime) -> RoutedReply:
    """A reply to call ``call_id`` as routing hands it over (read without roles, as the inbox does)."""
    number = next(_counter)
    message = ParsedMessage(message_id=f"<v{number}@corp.example.com>", from_addr=person["email"],
                            from_name=person["name"], subject="Volunteers wanted: Playbook writers",
                            in_reply_to=[], references=[], recipients=[], headers=[],
                            content_type="text/plain", text=text)
    intent = interpret("volunteer", text)
    return RoutedReply(person_id=person["id"], person_email=person["email"], purpose="volunteer",
                       ref=f"call:{call_id}", message=message, reply_text=text, intent=intent.intent,
                       role=intent.role, received_at=now)


@pytest.fixture
def community(db) -> dict[str, int]:
    """Six people in six time zones (Lena is the lead, Sofia only a sponsor): email -> id."""
    return {email: add_person(db, email, name, tz, roles) for email, name, tz, roles in PEOPLE}


@pytest.fixture
def write_call(tmp_path: Path):
    """Write a call file and return its path."""
    return file_writer(tmp_path, "call.toml", call_toml)


@pytest.fixture
def sim(db, settings) -> Sim:
    """The simulated worker over the test database."""
    return Sim(db, settings)


@pytest.fixture
def opened(db, community, write_call) -> int:
    """The playbook call (writer 2, reviewer 1), opened on 10 Jan 2027; its id."""
    return open_call(db, load_spec(write_call()), OPENED)
