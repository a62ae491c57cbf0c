"""What meetups say in a sponsor digest: read only, counts and shared highlights.

Upcoming meetups (starting in or after the period) with accepted / declined / tentative /
no-answer counts; meetups that took place in the period with attendance and the highlights
those who came chose to share (their reply to the highlight question, which said it would be
shared). ``email=None`` is everything, for a community lead; otherwise the meetups ``email``
sponsors.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from sqlite_utils import Database

from mailer.flows import reply_files
from mailer.flows.base import DigestItem
from mailer.flows.challenge import timing
from mailer.outbound import formats
from mailer.store import meetups as store

KEEP_AFTER_END = timedelta(days=14)  # sponsors hear about highlights for two weeks after a meetup


def sponsor_emails(db: Database, now: datetime) -> set[str]:
    """Sponsors of meetups that are upcoming or ended less than two weeks ago (digest recipients)."""
    return {s for m in store.list_meetups(db, since=now - KEEP_AFTER_END) if m["state"] != "cancelled"
            for s in m["sponsors"]}


def digest_items(db: Database, email: str | None, since: datetime, until: datetime) -> list[DigestItem]:
    """One DigestItem per meetup ``email`` sponsors (all for None) that is upcoming or happened in the period."""
    wanted = email.strip().lower() if email else None
    items = []
    for meetup in store.list_meetups(db, since=since):
        if wanted is not None and wanted not in meetup["sponsors"]:
            continue
        if meetup["state"] == "cancelled":
            if since <= meetup["updated_at"] < until:
                items.append(_item(meetup, "cancelled", (f"Cancelled{_reason(meetup)}.",)))
        elif meetup["start"] >= until or meetup["end"] > until:
            items.append(_upcoming(db, meetup, since, until))
        elif meetup["start"] >= since:
            items.append(_past(db, meetup))
    return items


def _when(meetup: dict) -> str:
    local = meetup["start"].astimezone(timing.zone(meetup["timezone"]))
    return f"{formats.date(local)} at {formats.time(local)} {timing.city(meetup['timezone'])} time"


def _reason(meetup: dict) -> str:
    return f": {meetup['cancel_reason']}" if meetup["cancel_reason"] else ""


def _item(meetup: dict, status: str, changed: tuple[str, ...] = (), facts: tuple[str, ...] = (),
          highlights: tuple[tuple[str, str], ...] = ()) -> DigestItem:
    return DigestItem(kind="meetup", ref=f"meetup:{meetup['id']}", title=meetup["title"], status=status,
                      changed=changed, facts=facts, highlights=highlights)


def _upcoming(db: Database, meetup: dict, since: datetime, until: datetime) -> DigestItem:
    invitees = store.list_invitees(db, meetup["id"])
    counts = Counter(p["partstat"] if p["answered_version"] == meetup["sequence"] else "needs-action"
                     for p in invitees)
    facts = (f"{counts['accepted']} accepted, {counts['declined']} declined, {counts['tentative']} maybe, "
             f"{counts['needs-action']} not answered yet (of {len(invitees)} invited)",)
    changed = (f"Scheduled for {_when(meetup)}." if meetup["sequence"] == 0 else f"Moved to {_when(meetup)}.",) \
        if since <= meetup["updated_at"] < until else ()
    return _item(meetup, f"upcoming: {_when(meetup)}", changed, facts)


def _past(db: Database, meetup: dict) -> DigestItem:
    invitees = store.list_invitees(db, meetup["id"])
    came = [p for p in invitees if p["attended"]]
    accepted = sum(p["partstat"] == "accepted" for p in invitees)
    facts = (f"{len(came)} came ({accepted} had accepted, {len(invitees)} invited)",) if came else \
        ("attendance not recorded yet",)
    shared = tuple((p["name"], p["highlight"]) for p in came if p["highlight"])
    photos = reply_files.shared_thumbnails(db, "meetup_highlight",
                                           [(meetup["id"], p["person_id"], p["name"]) for p in came])
    return replace(_item(meetup, f"took place {_when(meetup)}", facts=facts, highlights=shared), photos=photos)
