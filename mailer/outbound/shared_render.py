"""CSS inlining once per shape of email, not once per recipient (issue 25).

A day's 50,000 emails differ only in a few texts (a name, a partner line, a reference) and a
link or two; their tags, classes and style sheet are the same. ``inline`` cuts the rendered HTML
into its tags and texts, stands a numbered placeholder in for every text and every ``href`` /
``src`` value, and inlines the CSS of that skeleton once (kept per skeleton and, as the
skeleton holds the template's own words, per language). Each email is then the inlined
skeleton with its own texts and links put back, written as the inliner writes them (html5ever's
serialiser: entities decoded, then ``& < >`` and no-break spaces escaped in text, ``& "`` and
no-break spaces in attribute values), so the bytes are those ``css_inline`` would give
(``tests/outbound/test_shared_render.py`` compares them on every kind of email).

Falls back to inlining the whole page where a placeholder could change what the parser or a
selector does: a style sheet with attribute selectors, text right after ``<pre>``, ``<textarea>``
or ``<listing>`` (the parser drops a leading newline there), or a page that holds the
placeholder characters itself.
"""
from __future__ import annotations

import html
import re
from collections import OrderedDict
from typing import Callable

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters: the parser keeps them as text
_PLACEHOLDER = re.compile(f"{OPEN}(\\d+){CLOSE}")
_TAG = re.compile(r"(<[^>]*>)")
_LINK = re.compile(r'(\s(?:href|src)=")([^"]*)(")', re.IGNORECASE)
_RAW = re.compile(r"<(style|script)\b", re.IGNORECASE)
_LEADING_NEWLINE = re.compile(r"<(pre|textarea|listing)\b", re.IGNORECASE)
_SIZE = 64  # skeletons kept: a few per template, day and language


class SharedInliner:
    """Inlines with ``inliner`` (a ``str -> str``), once per skeleton."""

    def __init__(self, inliner: Callable[[str], str]) -> None:
        """``inliner``: what inlines a whole page (``css_inline.CSSInliner.inline``)."""
        self._inliner = inliner
        self._skeletons: OrderedDict[str, list[str]] = OrderedDict()

    def inline(self, page: str) -> str:
        """``page`` with its CSS inlined, as ``inliner(page)`` would give it."""
        cut = _cut(page)
        if cut is None:
            return self._inliner(page)
        skeleton, values = cut
        parts = self._skeletons.get(skeleton)
        if parts is None:
            parts = _PLACEHOLDER.split(self._inliner(skeleton))
            self._skeletons[skeleton] = parts
            if len(self._skeletons) > _SIZE:
                self._skeletons.popitem(last=False)
        else:
            self._skeletons.move_to_end(skeleton)
        out = parts[:]
        for n in range(1, len(out), 2):
            kind, value = values[int(out[n])]
            out[n] = _text(value) if kind == "text" else _attribute(value)
        return "".join(out)


def _cut(page: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(the skeleton, each placeholder's kind and original value), or None: inline it whole."""
    if OPEN in page or CLOSE in page:
        return None
    pieces, values = _TAG.split(page), []
    raw, after_pre = False, False
    for n, piece in enumerate(pieces):
        if n % 2:  # a tag
            if raw:
                raw = not piece.lower().startswith(("</style", "</script"))
                continue
            if piece.count('"') % 2 or piece.startswith("<!--"):
                return None  # a ">" inside a quoted value or a comment: the cut is not the parser's
            raw, after_pre = bool(_RAW.match(piece)), bool(_LEADING_NEWLINE.match(piece))
            if raw and piece.lower().startswith("<style") and "[" in pieces[n + 1]:
                return None  # an attribute selector could match a link we stand in for
            pieces[n] = _LINK.sub(lambda m: _stand_in(m, values), piece)
            continue
        if raw or not piece.strip():  # style sheets and whitespace stay: the parser treats them apart
            continue
        if after_pre:
            return None
        values.append(("text", piece))
        pieces[n] = f"{OPEN}{len(values) - 1}{CLOSE}"
    return "".join(pieces), values


def _stand_in(match: re.Match, values: list[tuple[str, str]]) -> str:
    values.append(("attribute", match.group(2)))
    return f"{match.group(1)}{OPEN}{len(values) - 1}{CLOSE}{match.group(3)}"


def _text(value: str) -> str:
    """A text as html5ever serialises it: references decoded, line ends normalised, then escaped."""
    plain = html.unescape(value).replace("\r\n", "\n").replace("\r", "\n")
    return plain.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    """An attribute value as html5ever serialises it (double-quoted)."""
    plain = html.unescape(value).replace("\r\n", "\n").replace("\r", "\n")
    return plain.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")
