"""How a simulated member's calendar reads one of our invitations: only its calendar part.

``parse_message`` (the worker's reading) reads every part; a calendar needs one. When the email
is an ordinary multipart (the part between two lines of the same boundary, no message attached
inside), the calendar part is read alone, its headers by the stdlib and its body decoded by it:
half the cost of the whole reading. Anything else is read whole by ``parse_message``.
``tests/test_simulate_mime.py`` holds both readings equal.
"""
from __future__ import annotations

import email
import email.policy
import re

from mailer.inbound.message import parse_message, part_text

CALENDAR = re.compile(rb"(?m)^content-type:[ \t]*(?:text/calendar|application/ics)\b")  # in lower case
BLANK_LINE = re.compile(rb"\r?\n\r?\n")  # the end of a header block
# parts of an attached message or a report are read otherwise (``parse_message``): read whole
EMBEDDED = (b"message/rfc822", b"text/rfc822-headers", b"message/delivery-status")


def calendar_text(raw: bytes) -> str | None:
    """The first calendar part's text, as ``parse_message(raw).calendar`` reads it."""
    part = _part_alone(raw, CALENDAR)
    return part_text(part, []) if part is not None else parse_message(raw).calendar


def _part_alone(raw: bytes, kind: re.Pattern) -> email.message.Message | None:
    """The first part of ``kind``, parsed alone; None when the email is not plain enough."""
    lower = raw.lower()  # bytes: the same length, so the same positions
    found = kind.search(lower)
    if found is None or any(marker in lower for marker in EMBEDDED):
        return None
    start = raw.rfind(b"\n--", 0, found.start()) + 1  # the delimiter line before the part
    head = raw.find(b"\n", start) + 1
    delimiter = raw[start:head].rstrip()
    end = raw.find(b"\n" + delimiter, found.end()) + 1  # the same delimiter after it
    if not start or not end or raw[end + len(delimiter):end + len(delimiter) + 2] not in (b"\r\n", b"--") \
            and raw[end + len(delimiter):end + len(delimiter) + 1] != b"\n":
        return None
    stop = end - 2 if raw[end - 2:end] == b"\r\n" else end - 1  # the line end before a boundary is the boundary's
    blank = BLANK_LINE.search(raw, head, stop)
    if blank is None:
        return None
    part = email.message_from_bytes(raw[head:blank.end()], policy=email.policy.compat32)
    part.set_payload(raw[blank.end():stop].decode("ascii", "surrogateescape"))  # as the parser keeps it
    return part
