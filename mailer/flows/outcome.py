"""How a flow's reply handler says what a reply ended in, when the inbox cannot tell by itself.

The inbox records one outcome for every message (DESIGN.md principle 10): a change the person
can see, one answer to them, or a record kept for the lead with its reason. It infers the first
two (the handler wrote to the store; it planned an answer). A handler that neither changes nor
answers says why it kept the reply for the lead with ``kept``; one whose writes are not a change
the person sees (a touch before a "could not read that" answer) says ``answered``.
"""
from __future__ import annotations

from mailer.flows.base import PlannedEmail, RoutedReply

KEY = "outcome"


def kept(reply: RoutedReply, reason: str, plans: list[PlannedEmail] | None = None) -> list[PlannedEmail]:
    """Mark ``reply`` as kept for the lead with ``reason``; returns ``plans`` (none by default)."""
    reply.extra[KEY] = ("kept", reason)
    return list(plans or [])


def answered(reply: RoutedReply, plans: list[PlannedEmail], reason: str | None = None) -> list[PlannedEmail]:
    """Mark ``reply`` as answered (whatever the handler wrote on the way); returns ``plans``."""
    reply.extra[KEY] = ("answer", reason)
    return plans


def marked(reply: RoutedReply) -> tuple[str, str | None] | None:
    """The outcome a handler marked on ``reply`` (outcome, reason), or None."""
    return reply.extra.get(KEY)
