"""How a simulated member's mail program reads one of our emails: only what it shows.

A mail program quoting our email needs its headers and its text; a calendar needs the calendar
part. ``parse_message`` (the worker's reading) parses every part, and the stdlib parser costs
microseconds a line: most of a simulated reply's cost. So when the email is an ordinary
multipart (the part between two lines of the same boundary, no message attached inside), the
part wanted is read alone, its headers by the stdlib and its body decoded by it; anything else
is read whole by ``parse_message``. ``tests/test_simulate_mime.py`` holds both readings equal.
"""
from __future__ import annotations

import email
import email.policy
import re

from mailer.inbound.message import ParsedMessage, parse_message, part_text

CALENDAR = re.compile(rb"(?m)^content-type:[ \t]*(?:text/calendar|application/ics)\b")  # in lower case
TEXT = re.compile(rb"(?m)^content-type:[ \t]*text/plain\b")
BLANK_LINE = re.compile(rb"\r?\n\r?\n")  # the end of a header block
# parts of an attached message or a report are read otherwise (``parse_message``): read whole
EMBEDDED = (b"message/rfc822", b"text/rfc822-headers", b"message/delivery-status")


def calendar_text(raw: bytes) -> str | None:
    """The first calendar part's text, as ``parse_message(raw).calendar`` reads it."""
    part = _part_alone(raw, CALENDAR)
    return part_text(part, []) if part is not None else parse_message(raw).calendar


def shown(raw: bytes) -> ParsedMessage:
    """The headers and the text of ``raw``, as ``parse_message`` reads them (nothing else is read)."""
    head = BLANK_LINE.search(raw)
    part = _part_alone(raw, TEXT) if head else None
    if part is None or "content-disposition" in {k.lower() for k in part.keys()} \
            or "name" in part.get("Content-Type", "").lower():  # a text file: not the text shown
        return parse_message(raw)
    parsed = parse_message(raw[:head.end()])
    parsed.text = part_text(part, parsed.defects)
    return parsed


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
