"""Which of our emails a bounce is about: only a bounce tied to an email we sent counts.

Anyone can write "550 5.1.1 alice@corp.example.com" in a mail from postmaster@anywhere, or forge
a delivery report; counting those would let an outsider stop a member's mail. A bounce counts
only when it names an email we sent, in one of three ways (strongest first):

1. VERP: it was delivered to the envelope sender that email went out with, ``local+b-ID@domain``
   (outbound.envelope.verp_sender), where ID is the random part of its Message-ID;
2. the returned message's Message-ID (message/rfc822 or text/rfc822-headers part, or the copy
   Exim writes into its text) is one of ours;
3. a reply token of ours appears in the returned headers (Reply-To, List-Unsubscribe).

The address that failed is the one we sent that email to, never one the bounce text names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from mailer.inbound.classify import OUR_VERP
from mailer.inbound.message import ParsedMessage, message_ids
from mailer.outbound.envelope import verp_message_id
from mailer.store import outbox, tokens

RETURNED_TOKEN_HEADERS = ("reply-to", "list-unsubscribe", "from", "return-path")


@dataclass(frozen=True)
class Tie:
    """The outbox row a bounce returns, and how we know."""

    sent: dict
    via: str  # "VERP", "returned Message-ID", "reply token"


def tie(db: Database, msg: ParsedMessage, our_address: str) -> Tie | None:
    """The email of ours that ``msg`` (a bounce) returns, or None when it names none."""
    for token in (m.group(1) for m in map(OUR_VERP.match, msg.recipients) if m):
        row = outbox.find_by_message_id(db, verp_message_id(token, our_address))
        if row:
            return Tie(row, "VERP")
    for mid in returned_message_ids(msg):
        row = outbox.find_by_message_id(db, mid)
        if row:
            return Tie(row, "returned Message-ID")
    for token in returned_tokens(msg, our_address):
        record = tokens.get_token(db, token)
        row = outbox.find_by_message_id(db, record["message_id"]) if record else None
        if row:
            return Tie(row, "reply token")
    return None


def counted(db: Database, msg: ParsedMessage, delayed: bool, our_address: str) -> tuple[Tie | None, str | None]:
    """The email a bounce returns when the bounce counts, else why it does not: a delay notice
    (still being retried) or a bounce tied to nothing we sent. The worker and ``explain`` both
    ask this, so that they agree."""
    if delayed:
        return None, "delay notice: the mail is still being retried, not a failure"
    found = tie(db, msg, our_address)
    if found is None:
        return None, "bounce tied to nothing we sent (no VERP address, Message-ID or token of ours): ignored"
    return found, None


def returned_message_ids(msg: ParsedMessage) -> list[str]:
    """Message-IDs of the returned message: its header block, else ids in the bounce text."""
    found = [mid for name, value in msg.returned_headers if name.lower() == "message-id"
             for mid in message_ids(value)]
    # Exim and others copy the returned message into the text part ("This is a copy of the
    # message, including all the headers").
    return found + [mid for mid in message_ids(msg.text or "") if mid not in found]


def returned_tokens(msg: ParsedMessage, our_address: str) -> list[str]:
    """Our reply tokens (``local+TOKEN@domain``) in the returned message's headers."""
    local, _, domain = our_address.lower().partition("@")
    pattern = re.compile(rf"\b{re.escape(local)}\+([a-z2-7]{{16,40}})@{re.escape(domain)}\b")
    values = [value for name, value in msg.returned_headers if name.lower() in RETURNED_TOKEN_HEADERS]
    return [m.group(1) for value in values for m in pattern.finditer(value.lower())]
