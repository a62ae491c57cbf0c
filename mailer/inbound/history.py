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
from mailer.inbound.quotes import history_span, is_quoted

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
    """Indexes of the lines that quote ``answered`` (blank lines inside a stretch included),
    with an attribution line the usual rules do not know just above a stretch."""
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
    """An unknown line introducing the stretch that starts at ``i`` (blank lines between):
    "Quoting Name <address>:". One the usual rules read ("On … wrote:") is left to them."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0 or len(lines[k]) > 300 or not _ATTRIBUTION.search(lines[k]) or _read_as_history(lines, k):
        return []
    return [k]


def _read_as_history(lines: list[str], k: int) -> bool:
    """Whether line ``k`` is part of a marker the usual rules read (an attribution wrapped over
    up to four lines, a separator, a header block)."""
    return any(j + history_span(lines, j) > k for j in range(max(0, k - 3), k + 1))


def mark_history(lines: list[str], answered: str | None) -> tuple[list[str], bool]:
    """``lines`` with every stretch that quotes ``answered`` marked as a ``>`` quote, so that
    the usual rules take it away as they take any quote; and whether any was found. Lines the
    usual rules already read as history markers stay as they are (they decide what follows)."""
    found = known_history(lines, answered) if answered else set()
    if not found:
        return lines, False
    marked = list(lines)
    for i in sorted(found):
        if not is_quoted(lines[i]) and not (lines[i].strip() and _read_as_history(lines, i)):
            marked[i] = f"> {lines[i]}"
    return marked, True


def _key(text: str) -> str:
    """The letters and digits of ``text`` (its ``>`` markers off each line), case-folded."""
    plain = "\n".join(_QUOTE_MARKS.sub("", line) for line in text.split("\n"))
    return "".join(ch for ch in unicodedata.normalize("NFKC", plain).casefold() if ch.isalnum())


def _weight(key: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in key)
