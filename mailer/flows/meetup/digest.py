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
from mailer.locale.text import _
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
                items.append(_item(meetup, _("cancelled"), (_cancelled(meetup),)))
        elif meetup["start"] >= until or meetup["end"] > until:
            items.append(_upcoming(db, meetup, since, until))
        elif meetup["start"] >= since:
            items.append(_past(db, meetup))
    return items


def _when(meetup: dict) -> str:
    local = meetup["start"].astimezone(timing.zone(meetup["timezone"]))
    return _("%(date)s at %(time)s %(city)s time", date=formats.date(local), time=formats.time(local),
             city=timing.city(meetup["timezone"]))


def _cancelled(meetup: dict) -> str:
    if meetup["cancel_reason"]:
        return _("Cancelled: %(reason)s.", reason=meetup["cancel_reason"])
    return _("Cancelled.")


def _item(meetup: dict, status: str, changed: tuple[str, ...] = (), facts: tuple[str, ...] = (),
          highlights: tuple[tuple[str, str], ...] = ()) -> DigestItem:
    return DigestItem(kind="meetup", ref=f"meetup:{meetup['id']}", title=meetup["title"], status=status,
                      changed=changed, facts=facts, highlights=highlights)


def _upcoming(db: Database, meetup: dict, since: datetime, until: datetime) -> DigestItem:
    invitees = store.list_invitees(db, meetup["id"])
    counts = Counter(p["partstat"] if p["answered_version"] == meetup["sequence"] else "needs-action"
                     for p in invitees)
    facts = (_("%(accepted)s accepted, %(declined)s declined, %(tentative)s maybe, %(open)s not answered yet "
               "(of %(invited)s invited)", accepted=counts["accepted"], declined=counts["declined"],
               tentative=counts["tentative"], open=counts["needs-action"], invited=len(invitees)),)
    changed = (_("Scheduled for %(when)s.", when=_when(meetup)) if meetup["sequence"] == 0 else
               _("Moved to %(when)s.", when=_when(meetup)),) if since <= meetup["updated_at"] < until else ()
    return _item(meetup, _("upcoming: %(when)s", when=_when(meetup)), changed, facts)


def _past(db: Database, meetup: dict) -> DigestItem:
    invitees = store.list_invitees(db, meetup["id"])
    came = [p for p in invitees if p["attended"]]
    accepted = sum(p["partstat"] == "accepted" for p in invitees)
    facts = (_("%(came)s came (%(accepted)s had accepted, %(invited)s invited)", came=len(came), accepted=accepted,
               invited=len(invitees)),) if came else (_("attendance not recorded yet"),)
    shared = tuple((p["name"], p["highlight"]) for p in came if p["highlight"])
    photos = reply_files.shared_thumbnails(db, "meetup_highlight",
                                           [(meetup["id"], p["person_id"], p["name"]) for p in came])
    return replace(_item(meetup, _("took place %(when)s", when=_when(meetup)), facts=facts, highlights=shared), photos=photos)
