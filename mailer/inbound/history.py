"""Quoted history we can prove: the stretches of a reply that are text of the email it answers.

cop-mailer keeps the bytes of every email it sends (the outbox), so for a reply to one of them
it knows what the answered email said. A stretch of the reply that is a stretch of that text,
once ``>`` markers, quote marks, spacing, line breaks and punctuation are set aside, is quoted
history, whatever the client wrote above it: an attribution we do not know (Horde's "Quoting
Name <address>:"), one in a language we do not read, or nothing at all (the original pasted
below). A client that re-wraps the quote (Horde at 76 columns) still matches: line breaks do
not count. One that quotes our HTML part shows the same words (markup does not count either),
with the footer in another order: a short stretch right below a long one joins it.

A stretch counts only with at least ``MIN_WEIGHT`` letters and digits, so a short answer that
happens to be words of our email ("pause", "Approve", "I'm in") stays the author's. Pure
functions; the answered text is an argument.
"""
from __future__ import annotations

import binascii
import email
import functools
import re
import unicodedata

from mailer.inbound.quotes import history_span, is_quoted

# Letters and digits a stretch needs before it counts as ours (a wide CJK character counts 2):
# more than any one-line answer our emails suggest ("Changes needed: what should change", 29).
MIN_WEIGHT = 32
# What a key leaves out: everything but letters and digits (">" markers, quote marks, spaces,
# punctuation, markup characters such as "*" and "_").
_NOT_ALNUM = re.compile(r"[\W_]+")
# The same for ASCII, as bytes to delete (``bytes.translate``: no regex over every character);
# UTF-8 never uses these bytes inside a longer character, so the text around stays whole.
_ASCII_NOT_ALNUM = bytes(b for b in range(128) if not chr(b).isalnum())
_ASCII = bytes(range(128))
# How outbound.envelope writes the plain part of every email (quoted-printable UTF-8) and its
# boundaries ("--=_…": "=_" cannot occur in quoted-printable): read back without a MIME parse,
# which would cost as much as parsing the reply itself.
_OUR_PLAIN_PART = (b'Content-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
                   b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
# An attribution line just above the quote: it ends with a colon, or names an address.
_ATTRIBUTION = re.compile(r"[:：]\s*$|<[^<>\s]+@[^<>\s]+>")


def sent_text(raw: bytes | None) -> str:
    """The plain text part of one of our emails (we always send one, before the HTML part).
    Empty when there is nothing to read."""
    if not raw:
        return ""
    start = raw.find(_OUR_PLAIN_PART)
    end = raw.find(b"\r\n--=_", start) if start >= 0 else -1
    if end >= 0:  # the part as outbound.envelope writes it: read straight from the bytes
        return _lf(binascii.a2b_qp(raw[start + len(_OUR_PLAIN_PART):end]).decode("utf-8", "replace"))
    for part in email.message_from_bytes(raw).walk():  # any other shape: the standard parser
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True) or b""
            return _lf(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return ""


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def known_history(lines: list[str], answered: str) -> set[int]:
    """Indexes of the lines that quote ``answered`` (blank lines inside a stretch included),
    with an attribution line the usual rules do not know just above a stretch. A short stretch
    right below a long one (blank lines between, both quoted with ``>`` or neither) is part of
    the same quote: a client quoting our HTML part shows its footer lines in another order."""
    keys = [_key(line) for line in lines]
    # No stretch counts unless one is heavy enough (a light one only joins one found above it),
    # and none is heavier than all the lines: then the answered text need not be read.
    source = _answered_key(answered) if _weight("".join(keys)) >= MIN_WEIGHT else ""
    if not source:
        return set()
    found: set[int] = set()
    i, taken = 0, -2  # taken: the last line of the latest stretch found
    while i < len(lines):
        last = _stretch_end(keys, i, source)
        if last is None:
            i += 1
            continue
        follows = taken >= 0 and not any(keys[taken + 1:i]) and is_quoted(lines[i]) == is_quoted(lines[taken])
        if follows or _weight("".join(keys[i:last + 1])) >= MIN_WEIGHT:
            found.update(range(i, last + 1))
            found.update([] if follows else _attribution_above(lines, i))
            taken = last
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


def _read_as_history(lines: list[str], k: int, spans: dict[int, int] | None = None) -> bool:
    """Whether line ``k`` is part of a marker the usual rules read (an attribution wrapped over
    up to four lines, a separator, a header block). ``spans`` keeps the spans already found."""
    spans = {} if spans is None else spans
    for j in range(max(0, k - 3), k + 1):
        if j not in spans:
            spans[j] = history_span(lines, j)
        if j + spans[j] > k:
            return True
    return False


def leaves_history(lines: list[str], answered: str) -> bool:
    """Whether text the usual rules left still holds a stretch of ``answered``, or a line that
    may have introduced one (they took a quote away, not the attribution they do not know)."""
    return any(_ATTRIBUTION.search(line[-300:]) for line in lines) or bool(known_history(lines, answered))


def mark_history(lines: list[str], answered: str | None) -> tuple[list[str], bool]:
    """``lines`` with every stretch that quotes ``answered`` marked as a ``>`` quote, so that
    the usual rules take it away as they take any quote; and whether any was found. Lines the
    usual rules already read as history markers stay as they are (they decide what follows)."""
    found = known_history(lines, answered) if answered else set()
    if not found:
        return lines, False
    marked, spans = list(lines), {}
    for i in sorted(found):
        if not is_quoted(lines[i]) and not (lines[i].strip() and _read_as_history(lines, i, spans)):
            marked[i] = f"> {lines[i]}"
    return marked, True


# One reply asks for the answered text's key up to four times (leaves_history, mark_history,
# for its plain and its HTML part): the last few are kept (a str caches its own hash).
@functools.lru_cache(maxsize=4)
def _answered_key(answered: str) -> str:
    return _key(answered)


def _key(text: str) -> str:
    """The letters and digits of ``text``, case-folded (NFKC: full-width forms as ASCII).

    ASCII punctuation and blanks go as bytes, ASCII letters are lowered as bytes; only the
    few distinct characters left outside ASCII (a "·" in our footer, accented letters) are
    each folded once, as ``_fold`` says. The same as ``_NOT_ALNUM.sub("", normal.casefold())``:
    ``casefold`` maps each character alone (no context, unlike ``lower``'s final sigma), so
    it can go character by character, after the ASCII ones are gone.
    """
    normal = unicodedata.normalize("NFKC", text)
    kept = normal.encode("utf-8", "surrogatepass").translate(None, _ASCII_NOT_ALNUM).lower()
    rest = kept.decode("utf-8", "surrogatepass")
    if kept.isascii():
        return rest
    others = kept.translate(None, _ASCII).decode("utf-8", "surrogatepass")  # the rest outside ASCII
    for char in set(others):  # the few distinct ones, each judged once
        folded = _fold(char)
        if folded != char:
            # What ``_fold`` gives is its own fold (tested over every character): a character
            # it brings in and that is replaced later in this loop is replaced by itself.
            rest = rest.replace(char, folded)
    return rest


@functools.lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character case-folded, without what is not a letter or a digit (``\\w`` but ``_``)."""
    return "".join(c for c in char.casefold() if c.isalnum())


def _weight(key: str) -> int:
    if len(key) >= MIN_WEIGHT:
        return len(key)  # no need to look closer: heavy enough
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in key)
