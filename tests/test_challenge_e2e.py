"""A whole 30-day challenge through the worker: real SQLite, real Maildir, then the real SMTP/IMAP rig.

Participants in Tokyo, Kolkata, London and New York; the clock is injected and walks hour by
hour from the day before the start to the day after the end.
"""
from __future__ import annotations

import collections
import email
import email.policy
import re
import smtplib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import compose_reply
from mailer.store import challenges, open_db, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.conftest import write_rig_home

ROOT = Path(__file__).resolve().parents[1]
ZONES = {"aiko": "Asia/Tokyo", "priya": "Asia/Kolkata", "oliver": "Europe/London", "sam": "America/New_York"}
START = datetime(2027, 1, 3, 0, 0, tzinfo=timezone.utc)  # the day before day 1, in every zone
ENTRIES = {  # (day, client): the journal entry the person means
    (2, "outlook"): "Mapped our pipeline.\n\nSeven stages; two of them are manual.",
    (3, "gmail"): "Paired with Sam on the build step.\n- found a flaky test\n- fixed the cache",
    (5, "apple"): "Short one today: wrote the runbook draft ☕",
}
SIGNATURES = {  # what their mail program or habit adds below it
    (2, "outlook"): "\n\nBest regards,\nOliver Bennett\nPlatform Engineering | Corp\n+44 20 7946 0000",
    (3, "gmail"): "\n\n-- \nOliver Bennett\nhttps://corp.example.com/oliver",
    (5, "apple"): "\n\nSent from my iPhone",
}
REPLIES = {key: text + SIGNATURES[key] for key, text in ENTRIES.items()}


def challenge_file(tmp_path: Path, addresses: list[str]) -> Path:
    text = (ROOT / "data" / "challenges" / "devops-30.toml").read_text()
    listed = "participants = [" + ", ".join(f'"{a}"' for a in addresses) + "]"
    text = re.sub(r"^participants\s*=.*$", listed, text, count=1, flags=re.M)
    path = tmp_path / "challenge.toml"
    path.write_text(text)
    return path


def day_emails(raw_messages: list[bytes]) -> dict[str, list[tuple[int, datetime]]]:
    """Recipient -> [(day number, Date header)] for every day email sent."""
    found = collections.defaultdict(list)
    for raw in raw_messages:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        match = re.match(r"Day (\d+) of 30", msg["Subject"])
        if match:
            found[msg["To"].addresses[0].addr_spec].append((int(match.group(1)), msg["Date"].datetime))
    return found


def assert_thirty_local_mornings(sent: dict, zones: dict[str, str]) -> None:
    assert set(sent) == set(zones)
    for address, items in sent.items():
        assert sorted(day for day, _ in items) == list(range(1, 31)), address
        for day, moment in items:
            local = moment.astimezone(ZoneInfo(zones[address]))
            assert local.date() == datetime(2027, 1, 4).date() + timedelta(days=day - 1), (address, day)
            assert 8 <= local.hour < 9, (address, day, local)


def journal_texts(db, address: str) -> dict[int, str]:
    person = people.find_person(db, address)
    texts = collections.defaultdict(list)
    for entry in challenges.entries(db, person["id"]):
        texts[entry["day"]].append(entry["text"])
    return {day: "\n\n".join(parts) for day, parts in texts.items()}


def walk(db, transport, settings, hours: int, on_hour=None) -> None:
    owner = worker.worker_id()
    for hour in range(hours):
        now = START + timedelta(hours=hour)
        worker.tick(db, transport, now, settings, owner)
        if on_hour:
            on_hour(now)


@pytest.mark.slow
def test_thirty_days_through_maildir(home, tmp_path):
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    addresses = {}
    for name, zone in ZONES.items():
        addresses[f"{name}@corp.example.com"] = zone
        people.add_person(db, f"{name}@corp.example.com", name.title(), zone)
    start_challenge(db, challenge_file(tmp_path, list(addresses)), START)
    transport = make_transport(settings)
    outbox_dir = settings.mail_dir / "outbox"

    def reply_when_due(now: datetime) -> None:
        for (day, client), text in REPLIES.items():
            if now == datetime(2027, 1, 3, 12, tzinfo=timezone.utc) + timedelta(days=day):
                original = latest_day_email(outbox_dir, "oliver@corp.example.com", day)
                deliver_to_inbox(settings.mail_dir, compose_reply(original, "oliver@corp.example.com",
                                                                  "Oliver", text, client, now))

    walk(db, transport, settings, 33 * 24, reply_when_due)
    sent = day_emails([p.read_bytes() for p in outbox_dir.rglob("*") if p.is_file()])
    assert_thirty_local_mornings(sent, addresses)
    entries = journal_texts(db, "oliver@corp.example.com")
    assert entries == {day: text for (day, _), text in ENTRIES.items()}

    before = sorted(p.name for p in outbox_dir.rglob("*") if p.is_file())
    worker.tick(db, transport, START + timedelta(hours=33 * 24 - 1), settings, "again")
    assert sorted(p.name for p in outbox_dir.rglob("*") if p.is_file()) == before


def latest_day_email(outbox_dir: Path, address: str, day: int) -> bytes:
    for path in outbox_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            if msg["To"].addresses[0].addr_spec == address and msg["Subject"].startswith(f"Day {day} of"):
                return raw
    raise AssertionError(f"no day {day} email to {address}")


@pytest.mark.rig
@pytest.mark.slow
def test_thirty_days_through_smtp_and_imap(mail_rig, tmp_path):
    users = mail_rig.fresh_users(("mailer", *ZONES))
    home = write_rig_home(tmp_path / "home", mail_rig, users["mailer"])
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    zones = {users[name].address: zone for name, zone in ZONES.items()}
    for name, zone in ZONES.items():
        people.add_person(db, users[name].address, name.title(), zone)
    start_challenge(db, challenge_file(tmp_path, list(zones)), START)
    transport = make_transport(settings)
    oliver = users["oliver"]

    def reply_when_due(now: datetime) -> None:
        for (day, client), text in REPLIES.items():
            if now == datetime(2027, 1, 3, 12, tzinfo=timezone.utc) + timedelta(days=day):
                original = imap_day_email(mail_rig, oliver, day)
                raw = compose_reply(original, oliver.address, "Oliver", text, client, now)
                to = email.message_from_bytes(raw)["To"]
                with smtplib.SMTP(mail_rig.host, mail_rig.smtp_port) as smtp:
                    smtp.sendmail(oliver.address, [to], raw)

    try:
        walk(db, transport, settings, 33 * 24, reply_when_due)
    finally:
        transport.close()
    received = []
    for user in (users[n] for n in ZONES):
        received += imap_all(mail_rig, user)
    assert_thirty_local_mornings(day_emails(received), zones)
    assert journal_texts(db, oliver.address) == {day: text for (day, _), text in ENTRIES.items()}


def imap_all(rig, user) -> list[bytes]:
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        return [data[b"BODY[]"] for data in client.fetch(uids, ["BODY.PEEK[]"]).values()]


def imap_day_email(rig, user, day: int) -> bytes:
    for raw in imap_all(rig, user):
        if email.message_from_bytes(raw, policy=email.policy.default)["Subject"].startswith(f"Day {day} of"):
            return raw
    raise AssertionError(f"no day {day} email for {user.address}")
