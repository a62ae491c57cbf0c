"""Fixtures for meetup tests: people in several time zones, meetup files, and a worker on an
injected clock whose plans go through the real outbox (rendering, tokens, bytes in SQLite)."""
from __future__ import annotations

import email
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import outbox
from mailer.flows import meetup
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.inbound.message import ParsedMessage
from mailer.store import outbox as outbox_store
from mailer.store.people import add_person
from tests.conftest import file_writer

UTC = timezone.utc
CREW = (("ana@corp.example.com", "Ana Costa", "Europe/London"),
        ("bob@corp.example.com", "Bob Brown", "America/New_York"),
        ("chen@corp.example.com", "Chen Wei", "Asia/Shanghai"),
        ("dora@corp.example.com", "Dora Diaz", "Europe/Berlin"))
SCHEDULED_AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def meetup_toml(start: str = "2027-03-30T18:00:00", zone: str = "Europe/London", invite: str | None = None,
                extra: str = "") -> str:
    """The text of a valid meetup file."""
    invite = invite or '["ana@corp.example.com", "bob@corp.example.com", "chen@corp.example.com"]'
    return (f'title = "Report-back meetup"\nstart = {start}\ntimezone = "{zone}"\nduration_minutes = 60\n'
            f'location = "https://meet.example.com/report-back"\n'
            f'description = "Highlights from the DevOps 30-day challenge"\ninvite = {invite}\n{extra}')


def spec(start: datetime, zone: str = "Europe/London", invite=None, **more) -> dict:
    """A schedule_meetup spec (start aware)."""
    return {"title": more.pop("title", "Report-back meetup"), "start": start, "timezone": zone,
            "duration_minutes": 60, "location": "Room 4", "online_url": "https://meet.example.com/rb",
            "description": "Highlights", "invite": invite or [e for e, _, _ in CREW[:3]], "speakers": [],
            "sponsors": ["sponsor@corp.example.com"], "source": "test", **more}


@dataclass
class Sim:
    """The meetup flow on an injected clock: ``tick(now)`` plans what is due and enqueues it."""

    db: object
    settings: object
    planned: list[tuple[datetime, PlannedEmail]] = field(default_factory=list)

    def tick(self, now: datetime) -> list[PlannedEmail]:
        plans = list(meetup.due(self.db, now, self.settings))
        outbox.enqueue(self.db, plans, now, self.settings)
        self.planned.extend((now, p) for p in plans)
        return plans

    def run(self, start: datetime, end: datetime, step: timedelta = timedelta(hours=1)) -> None:
        moment = start
        while moment <= end:
            self.tick(moment)
            moment += step

    def reply(self, email_addr: str, ref: str, intent: str, now: datetime, text: str = "",
              rsvp: dict | None = None, purpose: str = "meetup") -> list[PlannedEmail]:
        person = next(p for p in self.db.query("SELECT * FROM people WHERE email = ?", [email_addr]))
        plans = meetup.handle_reply(self.db, routed(person, ref, text, intent, now, rsvp, purpose), now,
                                    self.settings)
        outbox.enqueue(self.db, plans, now, self.settings)
        self.planned.extend((now, p) for p in plans)
        return plans

    def keys(self, *parts: str) -> list[str]:
        return [p.key for _, p in self.planned if all(part in p.key for part in parts)]

    def sent_to(self, email_addr: str, kind: str) -> list[PlannedEmail]:
        return [p for _, p in self.planned if p.to == email_addr and f":{kind}:" in p.key]


_counter = iter(range(1, 1_000_000))


def routed(person: dict, ref: str, text: str, intent: str, now: datetime, rsvp: dict | None = None,
           purpose: str = "meetup") -> RoutedReply:
    """A reply as routing hands it to the flow."""
    number = next(_counter)
    message = ParsedMessage(message_id=f"<r{number}@corp.example.com>", from_addr=person["email"],
                            from_name=person["name"], subject="Re: Invitation", in_reply_to=[], references=[],
                            recipients=[], headers=[], content_type="text/plain", text=text)
    return RoutedReply(person_id=person["id"], person_email=person["email"], purpose=purpose, ref=ref,
                       message=message, reply_text=text, intent=intent, rsvp=rsvp, received_at=now)


def email_parts(raw: bytes) -> dict[str, object]:
    """The parts of a sent email that matter for an invitation."""
    msg = email.message_from_bytes(raw)
    parts = {"message": msg, "tree": [(p.get_content_type(), p.get_param("method")) for p in msg.walk()]}
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            parts["inline"] = part.get_payload(decode=True)
        elif part.get_content_type() == "application/ics":
            parts["ics"], parts["ics_name"] = part.get_payload(decode=True), part.get_filename()
        elif part.get_content_type() in ("text/plain", "text/html") and part.get_content_type() not in parts:
            parts[part.get_content_type()] = part.get_payload(decode=True).decode("utf-8")
    return parts


def sent_bytes(db, key: str) -> bytes:
    """The stored bytes of the email with this idempotency key."""
    row = next(r for r in outbox_store.list_rows(db, limit=10_000) if r["key"] == key)
    return outbox_store.get_row(db, row["id"])["data"]


@pytest.fixture
def crew(db) -> dict[str, int]:
    """Four people in London, New York, Shanghai and Berlin: email -> id."""
    return {e: add_person(db, e, name, tz, ("member",)) for e, name, tz in CREW}


@pytest.fixture
def sim(db, settings) -> Sim:
    """The simulated worker over the test database."""
    return Sim(db, settings)


@pytest.fixture
def write_meetup(tmp_path: Path):
    """Write a meetup file and return its path."""
    return file_writer(tmp_path, "meetup.toml", meetup_toml)


def exchange_reply(address: str, organizer: str, uid: str, partstat: str) -> bytes:
    """An attendee's answer as Exchange's MIME holds it (IPM.Schedule.Meeting.Resp.*): an iTIP
    REPLY with no reply token, so only the event's UID ties it to a meetup."""
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    ics = (f"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n"
           f"BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20270301T091000Z\r\n"
           f"DTSTART:20270330T170000Z\r\nORGANIZER:mailto:{organizer}\r\n"
           f"ATTENDEE;PARTSTAT={partstat}:mailto:{address}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return (f"From: {address}\r\nTo: {organizer}\r\nSubject: {word}: Report-back meetup\r\n"
            f"Message-ID: <{uid[-8:]}.{address}>\r\nDate: Mon, 01 Mar 2027 09:10:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n{ics}").encode()
