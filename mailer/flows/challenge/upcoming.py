"""When the challenge flow will next have a day email to send: for the idle worker's line
("nothing due; next send 08:00 Europe/Paris"). Cheap: one small query per active challenge
(the distinct time zones of its active participants), then date arithmetic."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlite_utils import Database

from mailer.flows.challenge import timing as ct
from mailer.store import challenges as store


def next_send(db: Database, now: datetime) -> tuple[datetime, str] | None:
    """The earliest moment after ``now`` a day email opens, with the time zone it opens in."""
    found: list[tuple[datetime, str]] = []
    for challenge in store.list_challenges(db):
        if challenge["state"] != "active":
            continue
        start = date.fromisoformat(challenge["start"])
        send = time(challenge["send_hour"], challenge["send_minute"])
        for tz in store.active_zones(db, challenge["id"]):
            moment = _next_opening(now, tz, start, challenge["length"], send)
            if moment is not None:
                found.append((moment, tz))
    return min(found) if found else None


def _next_opening(now: datetime, tz: str, start: date, length: int, send: time) -> datetime | None:
    day = max(ct.day_number(now, tz, start), 1)
    moment = ct.opens_at(start, day, send, tz)
    if moment <= now:
        day, moment = day + 1, ct.opens_at(start, day + 1, send, tz)
    return moment if day <= length else None

