"""Routing: which of our emails a reply answers, and whether its sender may answer it.

By capability, not by trust in From (notes/email-safety.md): the reply token in the address
we gave as Reply-To first, then In-Reply-To/References against the Message-IDs we sent (for
servers that drop plus-addresses), then the short reference printed in the body. The sender
must be the token's recipient or one of their aliases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from mailer.inbound.message import ParsedMessage
from mailer.store import people, tokens

BODY_REF = re.compile(r"\(Reference:\s*([a-z2-7]{10})\)", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    """Where a reply goes: its token record and person, or why it was refused."""

    token: dict | None
    person: dict | None
    via: str  # "token", "in-reply-to", "body-reference" or "none"
    refused: str | None = None


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
    local, _, domain = our_address.lower().partition("@")
    pattern = re.compile(rf"^{re.escape(local)}\+([a-z2-7]{{16,40}})@{re.escape(domain)}$")
    return [m.group(1) for r in recipients if (m := pattern.match(r.lower()))]


def route(db: Database, msg: ParsedMessage, our_address: str, now: datetime) -> Route:
    """Decide where ``msg`` goes; a refused route says why (and changes nothing)."""
    record, via = find_token(db, msg, our_address)
    if record is None:
        return Route(None, None, via, refused="no reply token, In-Reply-To or reference matched our mail")
    person = people.get_person(db, record["person_id"])
    sender = people.find_person(db, msg.from_addr) if msg.from_addr else None
    if sender is None or sender["id"] != person["id"]:
        return Route(record, person, via,
                     refused=f"sender {msg.from_addr or '(none)'} is not the token's recipient {person['email']}")
    if record["expires_at"] < now:
        return Route(record, person, via, refused=f"token expired on {record['expires_at']:%Y-%m-%d}")
    return Route(record, person, via)


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
