"""Fixtures for charter tests: people in five time zones, charter files, and a worker on an
injected clock whose replies go through the real inbox (raw messages, ``mailer.inbox.process``).
"""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.simulation.replies import compose_reply
from mailer.store import open_db, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.conftest import file_writer

UTC = timezone.utc
PEOPLE = (("lead@corp.example.com", "Lena Lead", "Europe/Berlin", "member lead"),
          ("alice@corp.example.com", "Alice Moreau", "Europe/Paris", "member"),
          ("bob@corp.example.com", "Bob Okafor", "America/New_York", "member"),
          ("priya@corp.example.com", "Priya Sharma", "Asia/Kolkata", "member approver"),
          ("omar@corp.example.com", "Omar Haddad", "Africa/Cairo", "approver"),
          ("kenji@corp.example.com", "Kenji Sato", "Asia/Tokyo", "approver"),
          ("sponsor@corp.example.com", "Sam Sponsor", "Europe/London", "sponsor"),
          ("carla@corp.example.com", "Carla Ruiz", "America/Mexico_City", "member"))
SUBMITTED = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)


def charter_toml(approvers=("priya", "omar"), rule: object = '"all"', extra: str = "",
                 hours: object = 2, deadline: str = "2027-01-20", team=("alice", "bob")) -> str:
    """A valid charter file's text."""
    listed = ", ".join(f'"{a}@corp.example.com"' for a in approvers)
    members = ", ".join(f'"{a}@corp.example.com"' for a in team)
    return (f'title = "Observability playbook"\nkind = "practice-development"\n'
            f'goal = "A shared observability playbook for platform teams"\n'
            f'scope = "Three platform teams; dashboards and alerting only"\nout_of_scope = "Tracing"\n'
            f'proposer = "lead@corp.example.com"\nteam = [{members}]\nopen_places = 1\n'
            f'hours_per_week = {hours}\nduration_weeks = 8\nbudget = 5000\ncurrency = "EUR"\n'
            f'report_every_weeks = 2\nlearning_sponsors = ["sponsor@corp.example.com"]\nfunding_sponsors = []\n'
            f'approvers = [{listed}]\nrule = {rule}\ndeadline = {deadline}\n{extra}')


@dataclass
class World:
    """A home with settings, database and Maildir transport; ticks on an injected clock."""

    home: Path
    settings: object
    db: object
    transport: object

    def tick(self, now: datetime) -> worker.TickResult:
        return worker.tick(self.db, self.transport, now, self.settings, "test")

    def walk(self, start: datetime, end: datetime, step: timedelta = timedelta(hours=1)) -> None:
        moment = start
        while moment <= end:
            self.tick(moment)
            moment += step

    def sent(self) -> list[email.message.EmailMessage]:
        """Every email the Maildir transport sent, oldest first."""
        files = sorted((p for p in (self.settings.mail_dir / "outbox").rglob("*") if p.is_file()),
                       key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]

    def rows_to(self, address: str) -> list[dict]:
        return list(self.db.query("SELECT * FROM outbox JOIN outbox_data USING (id) WHERE to_addr = ? ORDER BY id", [address]))

    def latest(self, address: str, subject_part: str = "") -> bytes:
        rows = [r for r in self.rows_to(address) if subject_part in r["subject"]]
        assert rows, f"no email to {address} with {subject_part!r}"
        return rows[-1]["data"]

    def reply(self, address: str, text: str, now: datetime, client: str = "gmail", subject_part: str = "",
              original: bytes | None = None, sender: str | None = None, headers: dict | None = None) -> bytes:
        """``address`` presses Reply in ``client`` on their latest matching email; the inbox handles it."""
        person = people.find_person(self.db, address)
        raw = compose_reply(original or self.latest(address, subject_part), sender or address,
                            person["name"] if person else "Someone", text, client, now)
        if headers:
            raw = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + raw
        deliver_to_inbox(self.settings.mail_dir, raw)
        self.tick(now)
        return raw


def make_world(home: Path, extra_toml: str = "") -> World:
    """A world whose people are PEOPLE."""
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n' + extra_toml)
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for address, name, tz, roles in PEOPLE:
        people.add_person(db, address, name, tz, roles.split())
    return World(home, settings, db, make_transport(settings))


@pytest.fixture
def world(home) -> World:
    """A world without authentication checks."""
    return make_world(home)


@pytest.fixture
def write_charter(tmp_path: Path):
    """Write a charter file and return its path."""
    return file_writer(tmp_path, "charter.toml", charter_toml)


def keys(db, *parts: str) -> list[str]:
    """Outbox keys containing every part."""
    return [r["key"] for r in db.query("SELECT key FROM outbox ORDER BY id") if all(p in r["key"] for p in parts)]

