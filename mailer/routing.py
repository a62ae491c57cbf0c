"""Routing: which of our emails a reply answers, and whether its sender may answer it.

By capability, not by trust in From (notes/email-safety.md): the reply token in the address
we gave as Reply-To first, then In-Reply-To/References against the Message-IDs we sent (for
servers that drop plus-addresses), then the short reference printed in the body. The sender
must be the token's recipient or one of their aliases.

Calendar answers are the exception: Outlook and Google send an iTIP REPLY to the ORGANIZER
address, with no token and often no In-Reply-To (notes/calendar-invites.md). Those are routed
by the meetup's UID (unguessable, known only to invitees) and the answering attendee: the
ATTENDEE address, SENT-BY, DELEGATED-FROM, then From, each through the alias table. An answer
from no invitee is kept for the organiser (``Route.keep``) and never becomes an attendee.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from mailer.inbound.calendar_reply import RSVP_METHODS, read_rsvp
from mailer.inbound.message import ParsedMessage
from mailer.store import meetups, people, tokens

# "(Reference: …)" as every language we write says it (templates/base.*.j2, mailer/locale/).
BODY_REF = re.compile(r"\((?:Reference|Referenz|Référence|Referencia|参照)\s*[:：]\s*([a-z2-7]{10})\)", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    """Where a reply goes: its token record and person, or why it was refused."""

    token: dict | None
    person: dict | None
    via: str  # "token", "in-reply-to", "body-reference", "calendar-uid" or "none"
    refused: str | None = None
    keep: bool = False  # refused, but the flow keeps it for a person to see (a stranger's RSVP)
    ask: bool = False  # refused, but the token's recipient is asked whether they wrote it


def find_token(db: Database, msg: ParsedMessage, our_address: str) -> tuple[dict | None, str]:
    """The token record a message answers, and how we found it."""
    for value in _plus_tokens(msg.recipients, our_address):
        record = tokens.get_token(db, value)
        if record:
            return record, "token"
    record = tokens.token_for_message_ids(db, msg.in_reply_to + msg.references[::-1])
    if record:
        return record, "in-reply-to"
    for match in BODY_REF.finditer(msg.text or ""):
        found = tokens.tokens_with_prefix(db, match.group(1).lower())
        if len(found) == 1:
            return found[0], "body-reference"
    return None, "none"


def _plus_tokens(recipients: list[str], our_address: str) -> list[str]:
    pattern = _plus_pattern(our_address)
    return [m.group(1) for r in recipients if (m := pattern.match(r.lower()))]


@functools.lru_cache(maxsize=8)
def _plus_pattern(our_address: str) -> re.Pattern:
    """``local+TOKEN@domain`` of our address (made once, not once a reply)."""
    local, _, domain = our_address.lower().partition("@")
    return re.compile(rf"^{re.escape(local)}\+([a-z2-7]{{16,40}})@{re.escape(domain)}$")


def route(db: Database, msg: ParsedMessage, our_address: str, now: datetime) -> Route:
    """Decide where ``msg`` goes; a refused route says why (and changes nothing)."""
    if msg.sender_problem:
        return Route(None, None, "none", refused=f"the sender cannot be read ({msg.sender_problem}): "
                                                 "acts for nobody, kept for the lead")
    record, via = find_token(db, msg, our_address)
    if record is None:
        return calendar_route(db, msg) or Route(
            None, None, via, refused="no reply token, In-Reply-To or reference matched our mail")
    person = people.get_person(db, record["person_id"])
    if not _sent_by(db, msg.from_addr, person):
        return Route(record, person, via,
                     refused=f"sender {msg.from_addr or '(none)'} is not the token's recipient {person['email']}")
    if record["expires_at"] < now:
        return Route(record, person, via, refused=f"token expired on {record['expires_at']:%Y-%m-%d}")
    if via == "body-reference" and person["status"] != "inactive":
        return Route(record, person, via, ask=True,
                     refused=f"found only by the reference in the body, which a forwarded copy carries "
                             f"too: not acted on; {person['email']} is asked at their own address")
    return _unless_inactive(Route(record, person, via))


def _unless_inactive(found: Route) -> Route:
    """A reply from someone deactivated is kept for the lead, not acted on (mailer/membership.py)."""
    if found.person is None or found.person["status"] != "inactive":
        return found
    return Route(found.token, found.person, found.via, refused=f"{found.person['email']} is deactivated: kept "
                 "for the lead, not acted on (people activate, then inbox replay, acts on it)")


def _sent_by(db: Database, from_addr: str, person: dict) -> bool:
    """Whether ``from_addr`` is ``person``'s address or one of their aliases."""
    if from_addr and from_addr == person["email"]:
        return True  # the usual case: no lookup (addresses are stored lower case, as From is read)
    sender = people.find_person(db, from_addr) if from_addr else None
    return sender is not None and sender["id"] == person["id"]


def calendar_route(db: Database, msg: ParsedMessage) -> Route | None:
    """Where a tokenless calendar REPLY/COUNTER goes: its meetup by UID, its invitee by address."""
    from mailer.flows.meetup.rsvp import answering_invitee

    if not msg.calendar or (msg.calendar_method or "").upper() not in RSVP_METHODS:
        return None
    rsvp = read_rsvp(msg.calendar, msg.from_addr)
    meetup = meetups.find_by_uid(db, rsvp.uid) if rsvp and rsvp.uid else None
    if meetup is None:
        return None
    record = {"purpose": "meetup", "ref": f"meetup:{meetup['id']}", "person_id": None}
    invited = meetups.invited_to(db, meetup["id"])  # one indexed look-up per candidate, never a listing
    person, _ = answering_invitee((rsvp.attendee,), lambda address: people.find_person(db, address), invited)
    if person is None:
        return Route(record, None, "calendar-uid", keep=True,
                     refused=f"calendar answer for {rsvp.attendee or '(no attendee)'}, who is "
                             f"not invited to meetup {meetup['id']}: kept for the organiser")
    if not _sent_by(db, msg.from_addr, person):
        return Route(record, None, "calendar-uid", keep=True,
                     refused=f"calendar answer for {person['email']} sent by {msg.from_addr or '(none)'}, "
                             "not by that attendee: kept for the organiser, unattributed")
    return _unless_inactive(Route({**record, "person_id": person["id"]}, person, "calendar-uid"))


def describe(found: Route) -> dict:
    """A route as plain data (``explain --json``): how it was found, for whom, in which
    reading context, and why the worker would refuse it (None when it would act on it)."""
    from mailer.flows.registry import flow_for

    token, person = found.token or {}, found.person or {}
    flow = flow_for(token["purpose"]) if token else None
    refused = found.refused
    if refused is None and flow is None:
        refused = f"no flow handles {token.get('purpose')} replies yet"
    return {"via": found.via, "purpose": token.get("purpose"), "ref": token.get("ref"),
            "person": person.get("email"), "context": flow[1] if flow else None, "refused": refused}
