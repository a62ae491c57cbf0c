"""The worker's tick: twice at the same moment sends nothing twice; after downtime it catches up once."""
from __future__ import annotations

import collections
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from mailer import worker
from mailer.flows.challenge.definition import start_challenge
from mailer.store import people
from mailer.transports import make_transport
from tests.test_challenge_e2e import ZONES, challenge_file, day_emails

DAY1 = datetime(2027, 1, 4, tzinfo=timezone.utc)


def setup(db, tmp_path) -> dict[str, str]:
    zones = {f"{name}@corp.example.com": zone for name, zone in ZONES.items()}
    for address, zone in zones.items():
        people.add_person(db, address, address.split("@")[0].title(), zone)
    start_challenge(db, challenge_file(tmp_path, list(zones)), DAY1 - timedelta(days=1))
    return zones


def sent_mail(settings) -> list[bytes]:
    return [p.read_bytes() for p in (settings.mail_dir / "outbox").rglob("*") if p.is_file()]


def test_two_ticks_at_the_same_moment_send_once(db, settings, tmp_path):
    setup(db, tmp_path)
    transport = make_transport(settings)
    moment = DAY1 + timedelta(hours=12)
    first = worker.tick(db, transport, moment, settings, "w1")
    second = worker.tick(db, transport, moment, settings, "w2")
    assert first.sent > 0 and first.sent == first.enqueued
    assert (second.enqueued, second.sent) == (0, 0)
    assert len(sent_mail(settings)) == first.sent


def test_two_days_down_then_the_current_day_once_and_no_burst(db, settings, tmp_path):
    zones = setup(db, tmp_path)
    transport = make_transport(settings)
    down = (DAY1 + timedelta(days=4, hours=-12), DAY1 + timedelta(days=6, hours=-12))
    moment = DAY1 - timedelta(hours=12)
    while moment < DAY1 + timedelta(days=8):
        if not down[0] <= moment < down[1]:
            worker.tick(db, transport, moment, settings, "w")
        moment += timedelta(hours=1)
    sent = day_emails(sent_mail(settings))
    for address, items in sent.items():
        local_dates = collections.Counter(m.astimezone(ZoneInfo(zones[address])).date() for _, m in items)
        assert max(local_dates.values()) == 1, f"{address} got two days on one date"
        days = sorted(day for day, _ in items)
        assert len(days) == len(set(days)), f"{address} got a day twice"
        assert days[-1] in (8, 9) and {1, 2, 3} <= set(days), (address, days)
        assert 5 not in days or 6 not in days  # the outage ate at least one day; nothing was replayed
