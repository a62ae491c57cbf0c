"""Subjects of our answers: "Re: " once, whatever prefixes the person's client stacked up.

Clients prefix in their own language: Outlook writes "RE:", German Outlook "AW:" (Antwort)
and "WG:" (Weitergeleitet), Scandinavian clients "SV:" (Svar), Dutch "Antw:", and forwards
are "Fwd:"/"Fw:". Some count replies ("Re[2]:"). An answer to "RE: AW: Day 2 of 30" is
"Re: Day 2 of 30", not a growing chain.
"""
from __future__ import annotations

import re

from mailer.outbound.safe_text import one_line

_PREFIX = re.compile(r"^(?:\s*(?:re|aw|sv|fwd|fw|wg|antw|vs|tr)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
                     re.IGNORECASE)


def strip_prefixes(subject: str) -> str:
    """The subject without reply/forward prefixes ("RE: AW: Day 2" -> "Day 2"), on one line."""
    return _PREFIX.sub("", one_line(subject))


def reply_subject(their_subject: str, fallback: str) -> str:
    """The subject of our answer: "Re: " and their subject without its prefixes; ``fallback``
    when they wrote none."""
    bare = strip_prefixes(their_subject)
    return f"Re: {bare}" if bare else fallback
