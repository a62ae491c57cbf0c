"""Who may see the lead's page: sign-in by a one-time link sent by email, sessions, CSRF tokens.

No password exists anywhere. An address listed in ``[web] lead_emails`` (and known as a person
we may mail) asks for a link; the link goes out through the outbox like every email, signed
for its purpose (``Signer``, the home's rotatable keys) and bound to a nonce that the store
spends once, within ``LINK_MINUTES``. Spending it starts a session whose id only the browser
holds (the store keeps its SHA-256). Anyone else's request queues nothing and writes nothing,
and gets the same answer, so the page says nothing about who leads. Every check reads
``lead_emails`` again: an address taken off the list loses its session at the next request.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlite_utils import Database

from mailer import outbox
from mailer.flows.base import ANSWER, PlannedEmail
from mailer.locale.text import _
from mailer.store import lead_access as store
from mailer.store import people
from mailer.web.tokens import Signer

LINK_PURPOSE = "lead-signin"
CSRF_PURPOSE = "lead-csrf"
LINK_MINUTES = 15
LINKS_PER_HOUR = 5  # more requests than this for one lead in an hour queue nothing more
SESSION_HOURS = 12


def lead_addresses(settings) -> set[str]:
    """The addresses ``[web] lead_emails`` lists, lower-cased."""
    return {a.strip().lower() for a in (settings.web_lead_emails or "").split(",") if a.strip()}


def _lead(db: Database, settings, person_id: int) -> dict | None:
    """The person, while they are listed in ``lead_emails`` and may be mailed; else None."""
    found = people.get_people(db, [person_id])
    person = found[0] if found else None
    if person is None or person["email"].lower() not in lead_addresses(settings) or not people.is_mailable(person):
        return None
    return person


def request_link(db: Database, settings, signer: Signer, email: str, base_url: str, now: datetime) -> bool:
    """Queue a sign-in email to ``email`` when it is a lead's (True); for anyone else do
    nothing at all (False). The caller answers both the same way."""
    address = email.strip().lower()
    person = people.find_person(db, address) if address in lead_addresses(settings) else None
    if person is None or _lead(db, settings, person["id"]) is None:
        return False
    if store.links_since(db, person["id"], now - timedelta(hours=1)) >= LINKS_PER_HOUR:
        return False
    nonce = secrets.token_urlsafe(18)
    link = f"{base_url.rstrip('/')}/lead/sign-in/{signer.sign(person['id'], LINK_PURPOSE, nonce)}"
    plan = PlannedEmail(key=f"web:lead-signin:person:{person['id']}:{nonce}", to=person["email"],
                        subject=_("Sign in to the lead page of %(site)s", site=settings.mailer_site_name),
                        template="web/lead/signin_email", context={"link": link, "minutes": LINK_MINUTES},
                        priority=ANSWER)
    with db.atomic():
        store.add_link(db, nonce, person["id"], now, now + timedelta(minutes=LINK_MINUTES))
        outbox.enqueue(db, [plan], now, settings)
    return True


def link_person(db: Database, settings, signer: Signer, token: str) -> dict | None:
    """The lead a sign-in link was made for when it is genuine (not yet spent); else None."""
    link = signer.read(token, LINK_PURPOSE)
    return _lead(db, settings, link.person_id) if link else None


def spend_link(db: Database, settings, signer: Signer, token: str, now: datetime) -> str | None:
    """Spend a sign-in link: a new session id for its lead, or None (forged, expired, spent,
    another purpose's token, or no longer a lead's)."""
    link = signer.read(token, LINK_PURPOSE)
    if link is None or _lead(db, settings, link.person_id) is None:
        return None
    if not store.use_link(db, link.ref, link.person_id, now):
        return None
    session_id = secrets.token_urlsafe(32)
    store.start_session(db, session_id, link.person_id, now, now + timedelta(hours=SESSION_HOURS))
    return session_id


def session_lead(db: Database, settings, session_id: str | None, now: datetime) -> dict | None:
    """The lead whose live session this is, or None."""
    if not session_id:
        return None
    person_id = store.session_person(db, session_id, now)
    return _lead(db, settings, person_id) if person_id is not None else None


def end_session(db: Database, session_id: str | None, now: datetime) -> None:
    """Sign out."""
    if session_id:
        store.end_session(db, session_id, now)


def new_browser_secret() -> str:
    """A random value for a browser cookie (a pre-session id)."""
    return secrets.token_urlsafe(32)


def csrf_token(signer: Signer, browser_secret: str) -> str:
    """The token every form carries, bound to the browser's session id (or, before sign-in, to
    its pre-session cookie): a page on another site can neither read nor forge it."""
    return signer.sign(0, CSRF_PURPOSE, store.digest(browser_secret))


def csrf_ok(signer: Signer, browser_secret: str | None, token: str | None) -> bool:
    """Whether ``token`` was made for this browser's secret."""
    link = signer.read(token or "", CSRF_PURPOSE) if browser_secret else None
    return link is not None and hmac.compare_digest(link.ref, store.digest(browser_secret))


def check_lines(db: Database | None, settings) -> list[tuple[bool, str]]:
    """What ``check`` says of ``[web] lead_emails`` (nothing when it is empty): each address
    must be a person we may mail, or its sign-in link can never be sent."""
    wanted = sorted(lead_addresses(settings))
    if not wanted:
        return []
    found = people.find_people(db, set(wanted)) if db is not None else {}
    missing = [a for a in wanted if a not in found or not people.is_mailable(found[a])]
    if missing:
        return [(False, f"{', '.join(missing)} in [web] lead_emails cannot sign in: not a person we may "
                        "mail (add them with people import)")]
    return [(True, f"{len(wanted)} {'lead' if len(wanted) == 1 else 'leads'} may sign in: {', '.join(wanted)}")]
