"""Quoted history we can prove: the stretches of a reply that are text of the email it answers.

cop-mailer keeps the bytes of every email it sends (the outbox), so for a reply to one of them
it knows what the answered email said. A stretch of the reply that is a stretch of that text,
once ``>`` markers, quote marks, spacing, line breaks and punctuation are set aside, is quoted
history, whatever the client wrote above it: an attribution we do not know (Horde's "Quoting
Name <address>:"), one in a language we do not read, or nothing at all (the original pasted
below). A client that re-wraps the quote (Horde at 76 columns) or renders our HTML part instead
of our text part still matches: line breaks and markup characters do not count.

A stretch counts only with at least ``MIN_WEIGHT`` letters and digits, so a short answer that
happens to be words of our email ("pause", "Approve", "I'm in") stays the author's. Pure
functions; the answered text is an argument.
"""
from __future__ import annotations

import re
import unicodedata

from mailer.inbound.html_text import html_to_text
from mailer.inbound.message import parse_message

# Letters and digits a stretch needs before it counts as ours (a wide CJK character counts 2):
# longer than any one-line answer our emails suggest ("Changes needed: …" is the longest).
MIN_WEIGHT = 28
_QUOTE_MARKS = re.compile(r"^(\s*>)+")
# An attribution line just above the quote: it ends with a colon, or names an address.
_ATTRIBUTION = re.compile(r"[:：]\s*$|<[^<>\s]+@[^<>\s]+>")


def sent_text(raw: bytes | None) -> str:
    """The text of one of our emails as a reader may see it: its plain part and its HTML part
    as text (a client may quote either). Empty when there is nothing to read."""
    if not raw:
        return ""
    msg = parse_message(raw)
    parts = [msg.text or ""]
    if msg.html:
        parts.append(html_to_text(msg.html).text)
    return "\n".join(parts)


def known_history(lines: list[str], answered: str) -> set[int]:
    """Indexes of the lines that quote ``answered``, with the attribution line above each stretch."""
    source = _key(answered)
    if not source:
        return set()
    keys = [_key(line) for line in lines]
    found: set[int] = set()
    i = 0
    while i < len(lines):
        last = _stretch_end(keys, i, source)
        if last is None:
            i += 1
            continue
        if _weight("".join(keys[i:last + 1])) >= MIN_WEIGHT:
            found.update(range(i, last + 1))
            found.update(_attribution_above(lines, i))
        i = last + 1
    return found


def _stretch_end(keys: list[str], i: int, source: str) -> int | None:
    """The last line of the longest stretch from line ``i`` whose text runs on in ``source``
    (blank lines inside it belong to it); None when line ``i`` itself is not in ``source``."""
    if not keys[i] or keys[i] not in source:
        return None
    run, last = keys[i], i
    for k in range(i + 1, len(keys)):
        if not keys[k]:
            continue
        if run + keys[k] not in source:
            break
        run, last = run + keys[k], k
    return last


def _attribution_above(lines: list[str], i: int) -> list[int]:
    """The line introducing a stretch of quoted history that starts at ``i`` (blank lines between)."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k >= 0 and len(lines[k]) <= 300 and _ATTRIBUTION.search(lines[k]):
        return [k]
    return []


def without_history(lines: list[str], answered: str | None) -> tuple[list[str], bool]:
    """``lines`` without the stretches that quote ``answered`` (one blank line left where one
    was taken out between paragraphs), and whether any was taken out."""
    found = known_history(lines, answered) if answered else set()
    if not found:
        return lines, False
    kept: list[str] = []
    after_cut = False
    for index, line in enumerate(lines):
        if index in found:
            after_cut = True
            continue
        if after_cut and not line.strip() and (not kept or not kept[-1].strip()):
            continue  # the cut left two blank lines together: keep one
        after_cut = after_cut and not line.strip()
        kept.append(line)
    return kept, True


def _key(text: str) -> str:
    """The letters and digits of ``text`` (its ``>`` markers off each line), case-folded."""
    plain = "\n".join(_QUOTE_MARKS.sub("", line) for line in text.split("\n"))
    return "".join(ch for ch in unicodedata.normalize("NFKC", plain).casefold() if ch.isalnum())


def _weight(key: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in key)
