"""What a member may change about the mail they get, by series, without a password.

A *series* is what one List-Unsubscribe stops: a challenge's emails (``challenge:7``), one
project's news (``charter:3``), or digests (``digest``). Each change goes through the verb a
reply uses for the same word (a challenge's ``set_participant_status``, the charter store's
``stop_news``, the digest store's ``set_cadence``), so a stop on the web is the same stop as
"stop" by reply, and it is recorded (``store.preferences.record_change``) with how it was made.
Unlike a reply, no email answers it: the page (or the mail provider's own screen) shows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import available_timezones

from sqlite_utils import Database

from mailer.config import Settings
from mailer.errors import NotFoundError
from mailer.flows.challenge import flow as challenge_flow
from mailer.flows.challenge import timing as ct
from mailer.flows.challenge.emails import said
from mailer.flows.digest import flow as digest_flow
from mailer.locale.text import _
from mailer.store import challenges, charters, digests
from mailer.store import preferences as store

CADENCES = ("daily", "weekly", "monthly")
NEWS_STATUSES = ("approved", "completed")  # projects whose news goes out


@dataclass(frozen=True)
class Series:
    """One series as its page shows it: what it is, where the person stands, what they may do."""

    ref: str  # challenge:7, charter:3, digest
    kind: str  # challenge, news, digest
    title: str
    state: str  # active, paused, stopped (challenge); getting, stopped (news); a cadence or off (digest)
    actions: tuple[str, ...]  # what the page offers: pause, resume, stop; for digests a cadence or off

    @property
    def stopped(self) -> bool:
        """Whether this series sends this person nothing any more."""
        return self.state in ("stopped", "off")


def _challenge(db: Database, person: dict, challenge_id: int, today: date) -> Series | None:
    try:
        challenge = challenges.get_challenge(db, challenge_id)
    except NotFoundError:
        return None
    participant = challenges.get_participant(db, challenge_id, person["id"])
    if challenge["state"] == "removed" or participant is None:
        return None
    last = ct.day_date(date.fromisoformat(challenge["start"]), challenge["length"])
    status = participant["status"]
    actions = () if today > last + timedelta(days=1) else {
        "active": ("pause", "stop"), "paused": ("resume", "stop"), "stopped": ("resume",)}[status]
    return Series(f"challenge:{challenge_id}", "challenge", said(challenge, "title"), status, actions)


def _news(db: Database, person: dict, charter_id: int) -> Series | None:
    try:
        charter = charters.get_charter(db, charter_id)
    except NotFoundError:
        return None
    stopped = person["id"] in charters.news_stopped(db, charter_id)
    return Series(f"charter:{charter_id}", "news", _("Project news: %(title)s", title=charter["title"]),
                  "stopped" if stopped else "getting", ("resume",) if stopped else ("stop",))


def _digest(db: Database, person: dict, settings: Settings) -> Series:
    cadence = digests.cadences(db).get(person["id"], settings.digests_cadence)
    return Series("digest", "digest", _("Digests"), cadence, tuple(c for c in (*CADENCES, "off") if c != cadence))


def hears_news(person: dict, charter: dict) -> bool:
    """Whether project news of ``charter`` goes to ``person`` (as charter/project.py decides):
    a member (no roles, or "member" among them), or one of its sponsors."""
    roles = set((person.get("roles") or "").replace(",", " ").split())
    sponsors = {*charter["spec"]["learning_sponsors"], *charter["spec"]["funding_sponsors"]}
    return not roles or "member" in roles or person["email"] in sponsors


def series_of(db: Database, person: dict, ref: str, now: datetime, settings: Settings) -> Series | None:
    """The series ``ref`` as it stands for ``person``, or None when they are not in it."""
    kind, _sep, number = ref.partition(":")
    if kind == "challenge" and number.isdigit():
        return _challenge(db, person, int(number), now.date())
    if kind == "charter" and number.isdigit():
        return _news(db, person, int(number))
    if ref == "digest":
        return _digest(db, person, settings)
    return None


def all_series(db: Database, person: dict, now: datetime, settings: Settings) -> list[Series]:
    """Every series ``person`` is in: their challenges, the projects whose news they hear (or
    stopped), and digests when they get them."""
    found = [_challenge(db, person, cid, now.date()) for cid in challenges.challenges_of(db, person["id"])]
    for charter in charters.list_charters(db):
        if charter["status"] in NEWS_STATUSES and hears_news(person, charter):
            found.append(_news(db, person, charter["id"]))
    if person["id"] in {p["id"] for p in digest_flow.recipients(db, now)}:
        found.append(_digest(db, person, settings))
    return [s for s in found if s is not None]


def change(db: Database, person: dict, series: Series, action: str, now: datetime, via: str) -> bool:
    """Apply ``action`` to ``series`` for ``person`` through the flow's own verb; True when
    something changed (then it is recorded). ``ValueError`` for an action the series does not offer."""
    if action == "stop" and series.stopped:
        return False  # a second one-click POST: nothing to do, still a success
    wanted = "off" if action == "stop" and series.kind == "digest" else action
    if wanted not in series.actions:
        raise ValueError(f"{action} is not offered for {series.ref} ({series.state})")
    with db.atomic():
        _apply(db, person["id"], series, wanted, now)
        store.record_change(db, person["id"], series.ref, wanted, via, now)
    return True


def _apply(db: Database, person_id: int, series: Series, action: str, now: datetime) -> None:
    number = series.ref.partition(":")[2]
    if series.kind == "challenge":
        status = challenge_flow.STATUS_FOR[action]
        challenge_flow.set_participant_status(db, int(number), person_id, status, now)
    elif series.kind == "news" and action == "stop":
        charters.stop_news(db, int(number), person_id, now)
    elif series.kind == "news":
        charters.resume_news(db, int(number), person_id)
    else:
        digests.set_cadence(db, person_id, action)


def set_timezone(db: Database, person: dict, zone: str, now: datetime, via: str) -> bool:
    """Move ``person`` to the IANA zone ``zone``; True when it changed. ``ValueError`` for a
    name that is not a zone. Their next day email goes at the send hour in the new zone."""
    if zone not in zones():
        raise ValueError(f"{zone!r} is not an IANA time zone (like Europe/London)")
    if zone == person["timezone"]:
        return False
    with db.atomic():
        store.set_timezone(db, person["id"], zone)
        store.record_change(db, person["id"], "timezone", zone, via, now)
    return True


def set_send_hour(db: Database, person: dict, hour: int | None, now: datetime, via: str) -> bool:
    """Give ``person`` their own local hour (0-23) for day emails, or None for each challenge's
    own; True when it changed. ``ValueError`` for another number."""
    if hour is not None and hour not in range(24):
        raise ValueError(f"{hour} is not an hour (0-23)")
    if hour == person.get("send_hour"):
        return False
    with db.atomic():
        store.set_send_hour(db, person["id"], hour)
        store.record_change(db, person["id"], "send_hour", "challenge" if hour is None else f"{hour:02d}:00", via, now)
    return True


def zones() -> list[str]:
    """Every IANA zone name this machine knows, sorted (the page's list)."""
    global _ZONES
    if not _ZONES:
        _ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
        _ZONES.append("UTC")
    return _ZONES


_ZONES: list[str] = []
