"""Letting someone go and taking them back: ``deactivate`` and ``activate``.

A deactivated person gets no mail of any kind from the next tick: what waits for them in the
outbox is taken out and held, and every email planned for them later is held at the one place
every email is enqueued (``outbox.enqueue_one``), recorded in ``held_mail``. Their history
(entries, decisions, sign-ups, RSVPs) stays. Replies they send are not acted on: routing
refuses them and the inbox keeps them for the lead with the reason (``people activate``, then
``inbox replay ID``, acts on one). ``activate`` undoes it: flows plan again what is still due.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store import outbox, people


def person_by_email(db: Database, email: str) -> dict:
    """The person with this address (or alias); ``NotFoundError`` naming it otherwise."""
    person = people.find_person(db, email)
    if person is None or person["status"] == "erased":
        raise NotFoundError(f"no person with address {email}")
    return person


def deactivate(db: Database, email: str, now: datetime) -> tuple[dict, int]:
    """Stop all mail to this person from now on; return them and how many queued emails were held."""
    person = person_by_email(db, email)
    with db.atomic():
        people.set_active(db, person["id"], False)
        queued = outbox.take_queued_to(db, person["email"])
        for key, subject in queued:
            people.hold_mail(db, person["id"], key, subject, now)
    return person, len(queued)


def activate(db: Database, email: str) -> dict:
    """Let mail reach this person again (from the next tick); return them."""
    person = person_by_email(db, email)
    people.set_active(db, person["id"], True)
    return person
