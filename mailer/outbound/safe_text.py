"""Making data safe to show: one line, no control characters, in headers and in plain text.

Names, titles and echoed subjects come from CSV files, TOML files and other people's mail. A
line break in a header value starts a new header (``"Zed\\nX-Evil: 1"``), and the standard
library refuses to serialise one (``HeaderParseError``), so one bad row would stop every email
built with it. Everything built from data goes through here before it reaches a header, and
names shown in a plain-text part too, so a multi-line name cannot add lines to the body.
"""
from __future__ import annotations

import re
import unicodedata

# A display name longer than this is not a name (and would need many encoded-words).
MAX_DISPLAY_NAME = 64
_SPACES = re.compile(r"\s+")
# Line breaks and characters that cannot be shown or encoded become spaces: Unicode's Cc (C0,
# DEL, C1: CR, LF, TAB, NUL, ESC, NEL…), Zl and Zp (the line and paragraph separators, which
# break lines in some readers) and Cs (lone surrogates): these fixed ranges, one pattern
# (tests/outbound/test_compose_fast.py checks every code point against the categories).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def control_character(value: str) -> str | None:
    """The first control, format or line-break character in ``value`` (Unicode categories Cc,
    Cf, Zl, Zp), as Python writes it (``'\\u202e'``); None when there is none. Format characters
    include the bidi overrides (U+202E turns "gpj.exe" into "exe.jpg" on screen) and zero-width
    spaces: a name or title holding one is refused where it comes in. The zero-width
    (non-)joiners are allowed: they belong inside words in Indic and Persian scripts."""
    if value.isprintable():  # the common case, and fast: no Cc, Cf, Zl or Zp in it
        return None
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
                and c not in "\u200c\u200d"), None)
    return repr(bad) if bad else None


def one_line(value: object) -> str:
    """``value`` as one line of text: control characters and line breaks become spaces,
    runs of white space one space, and the ends are trimmed."""
    text = "" if value is None else str(value)
    if text.isprintable() and "  " not in text and text == text.strip():
        return text  # the common case, already clean
    return _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip()


def display_name(name: object) -> str:
    """A name fit for ``From:``/``To:``, or "" when it cannot be used (then the header
    carries the bare address rather than the email failing)."""
    text = one_line(name)
    if len(text) > MAX_DISPLAY_NAME or not any(c.isalnum() for c in text):
        return ""
    return text


def first_name(name: object, fallback: str = "there") -> str:
    """How we greet someone in a sentence: the first word of their (one-line) name."""
    return (one_line(name).split() or [fallback])[0]
