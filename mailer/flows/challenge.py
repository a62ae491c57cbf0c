"""The 30-day challenge flow (being written)."""
from __future__ import annotations


def due(db, now, settings):
    """What is due now (stub)."""
    return []


def handle_reply(db, reply, now, settings):
    """How a reply changes state (stub)."""
    return []
