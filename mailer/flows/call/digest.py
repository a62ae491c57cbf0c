"""What volunteer calls say in a sponsor digest: places filled and open, and what changed.

Leads (``email=None``, or a person with the role "lead") see every call; a sponsor sees the
calls feeding a challenge they sponsor. Only counts and statuses: who volunteered is for the
call's sender, not for a digest.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlite_utils import Database

from mailer.flows.base import DigestItem
from mailer.flows.call import definition, feeds
from mailer.flows.call.places import filled
from mailer.flows.call.flow import role_counts
from mailer.flows.challenge import sponsors_of  # the challenge flow's public verb
from mailer.store import calls as store
from mailer.store import people
from mailer.outbound import formats


def digest_items(db: Database, email: str | None, since: datetime, until: datetime) -> list[DigestItem]:
    """One item per call open at some point in ``[since, until)`` that ``email`` may see."""
    everything = email is None or _is_lead(db, email)
    items = []
    for call in store.list_calls(db):
        if call["created_at"] >= until or (call["closed_at"] and call["closed_at"] < since):
            continue
        if everything or _sponsors_target(db, call["feeds"], email):
            items.append(_item(db, call, since, until))
    return items


def _is_lead(db: Database, email: str) -> bool:
    person = people.find_person(db, email)
    return person is not None and definition.has_role(person, "lead")


def _sponsors_target(db: Database, ref: str, email: str) -> bool:
    """Whether ``email`` sponsors what the call feeds (known cheaply for challenges only)."""
    parsed = feeds.parse(ref)
    if parsed is None or parsed[0] != "challenge":
        return False
    return email.strip().lower() in sponsors_of(db, parsed[1])


def _item(db: Database, call: dict, since: datetime, until: datetime) -> DigestItem:
    roles = role_counts(db, call["id"])
    status = ("closed, " if call["state"] == "closed" else f"open until {formats.date(date.fromisoformat(str(call['closes'])[:10]))}, ") + filled(roles)
    counts = store.changes_between(db, call["id"], since, until)
    changed = tuple(sentence for n, sentence in (
        (counts["signed_up"], f"{counts['signed_up']} signed up"),
        (counts["promoted"], f"{counts['promoted']} moved up from the waitlist"),
        (counts["withdrew"], f"{counts['withdrew']} withdrew")) if n)
    facts = tuple(f"{r.name or 'volunteers'}: {r.taken}"
                  + (f" of {r.places} places filled" if r.places else " signed up")
                  + (f", {r.waiting} waiting" if r.waiting else "") for r in roles)
    return DigestItem(kind="call", ref=f"call:{call['id']}", title=call["title"], status=status,
                      changed=changed, facts=facts)  # no chart: the digest draws per-day bars
