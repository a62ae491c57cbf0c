"""What volunteer calls say in a sponsor digest: places filled and open, and what changed.

Leads (``email=None``, or a person with the role "lead") see every call; a sponsor sees the
calls feeding a challenge they sponsor. Only counts and statuses: who volunteered is for the
call's sender, not for a digest.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlite_utils import Database

from mailer.flows.base import DigestItem
from mailer.flows.call import definition, emails, feeds
from mailer.flows.call.places import filled
from mailer.flows.call.flow import role_counts
from mailer.flows.challenge import sponsors_of  # the challenge flow's public verb
from mailer.store import calls as store
from mailer.store import people
from mailer.locale.text import Joined, _, ngettext
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
    status = _("closed, %(filled)s", filled=filled(roles)) if call["state"] == "closed" else \
        _("open until %(date)s, %(filled)s", date=formats.date(date.fromisoformat(str(call["closes"])[:10])),
          filled=filled(roles))
    counts = store.changes_between(db, call["id"], since, until)
    changed = tuple(sentence for n, sentence in (
        (counts["signed_up"], ngettext("%(num)s signed up", "%(num)s signed up", counts["signed_up"])),
        (counts["promoted"], ngettext("%(num)s moved up from the waitlist", "%(num)s moved up from the waitlist",
                                       counts["promoted"])),
        (counts["withdrew"], ngettext("%(num)s withdrew", "%(num)s withdrew", counts["withdrew"]))) if n)
    facts = tuple(_role_fact(r) for r in roles)
    return DigestItem(kind="call", ref=f"call:{call['id']}", title=emails.title(call), status=status,
                      changed=changed, facts=facts)  # no chart: the digest draws per-day bars


def _role_fact(role) -> str:
    """One role in the digest: "writer: 1 of 2 places filled, 3 waiting"."""
    name = role.name or _("volunteers")
    if role.places:
        fact = ngettext("%(role)s: %(taken)s of %(num)s places filled", "%(role)s: %(taken)s of %(num)s places filled",
                        role.places, role=name, taken=role.taken)
    else:
        fact = ngettext("%(role)s: %(num)s signed up", "%(role)s: %(num)s signed up", role.taken, role=name)
    return Joined(", ", (fact, ngettext("%(num)s waiting", "%(num)s waiting", role.waiting))) if role.waiting else fact
