"""Rendering a fan-out once per shape (issue 25): the same bytes as ``render.render``, cheaper.

A day's emails differ between recipients in a few printed fields (the greeting, the reference,
the preferences link, a partner line). ``render`` here renders a template once for each *shape*
(template, language and every value the template reads in a way that can change what it prints)
with the printed fields replaced by markers, tidies the text and inlines the CSS once, and then
puts each recipient's fields in, escaped as the inlined page has them.

Which fields may be markers is decided from the templates themselves (``outbound.fields``),
never from a list: a context name qualifies only if every use of it, in the template and everything it
extends, includes or imports, is printed as it is (``{{ name }}``, ``{{ name.attr }}`` or as a
variable of a ``{% trans %}`` / ``_()`` message printed as it is) or tested for truth
(``{% if name %}``). Any other use (a filter, a comparison, a macro argument, a loop, output
captured by ``{% set %}``, a macro or a filter block) makes the name part of the shape, so its
value must be equal for two emails to share a render. A value is put in by marker only when it
is plain text that reads back the same wherever it lands (``_sayable``); anything else is part
of the shape too. And a page where a marker lands anywhere but in a text node or a quoted
attribute value is rendered per person. When in doubt: the full per-person render.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import FunctionType
from typing import Any

from markupsafe import Markup

from mailer.errors import MailerError
from mailer.locale.text import Joined, Localized, Text, Versions, localize
from mailer.outbound import render as full
from mailer.outbound.fields import GREETING, Unshareable, fields

log = logging.getLogger(__name__)

_MARKER = re.compile("\ue000(\\d+)\ue001")
# Characters a field must not hold to be put in by marker: controls and line breaks (the text
# part's tidying splits lines; the HTML parser rewrites CR and NUL), surrogates, and the private
# use area the markers are made of.
_UNSAYABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ue000-\uf8ff]")
_RAW_TEXT = re.compile(r"<(script|style|xmp|iframe|noembed|noframes|plaintext|noscript)\b", re.I)
_STYLE = re.compile(r"(?is)<style\b[^>]*>(.*?)</style>")
CACHE_SIZE = 256


# -- the shape of one email ------------------------------------------------------------------

_SUB = ("marker",)
_PLAIN = frozenset({str, int, bool, bytes, type(None)})
_MARKERS = tuple(f"\ue000{n}\ue001" for n in range(32))


def freeze(value: Any) -> Any:
    """``value`` as a hashable key that is equal only for values that render alike (types
    included: ``1``, ``1.0`` and ``True`` are equal in Python, not on the page)."""
    kind = type(value)
    if value is None or kind in (bool, int, str, bytes):
        return kind, value
    if kind is Markup:
        return kind, str.__str__(value)
    if kind in (float, date, datetime, time, timedelta, Decimal):
        return kind, repr(value)  # repr keeps a datetime's zone and a float's sign
    if isinstance(value, Localized):
        try:
            return value._key  # a value shared by a fan-out's emails is frozen once
        except AttributeError:
            value._key = _freeze_localized(value, kind)
            return value._key
    if kind is FunctionType:  # what a ``Shown`` is said again with: the same function
        return kind, value
    if kind is dict:
        if set(map(type, value)) <= _PLAIN and set(map(type, value.values())) <= _PLAIN:  # in C: no call per item
            return kind, tuple(zip(map(type, value), value, map(type, value.values()), value.values()))
        return kind, tuple((freeze(k), freeze(v)) for k, v in value.items())
    if kind in (list, tuple):
        if set(map(type, value)) <= _PLAIN:  # a list of names: no Python call per name
            return kind, tuple(zip(map(type, value), value))
        return kind, tuple(freeze(v) for v in value)
    raise Unshareable(f"a {kind.__name__} in the context")


def _freeze_localized(value: Localized, kind: type) -> tuple:
    if kind is Text:
        return kind, str.__str__(value), value.msgid, value.plural, value.n, freeze(value.params), value.context
    if kind is Joined:
        return kind, value.sep, freeze(value.parts)
    if kind is Versions:
        return kind, str.__str__(value), freeze(value.versions), value.markup
    # another kind said later (a date: ``formats.Shown``)
    return kind, str.__str__(value), tuple(freeze(getattr(value, slot)) for slot in kind.__slots__)


def _sayable(value: Any, language: str) -> str | None:
    """``value`` as the page prints it, when it can be put in by marker: plain text, not
    empty, one line with no spaces at its ends, nothing the HTML parser rewrites."""
    if type(value) is str:  # the common case: says itself
        said = value
    elif not isinstance(value, str) or isinstance(value, Markup):
        return None
    else:
        said = localize(value, language)
    if (type(said) is not str or not said or said[0].isspace() or said[-1].isspace()
            or _UNSAYABLE.search(said) or said in ("-", "--")):  # "-- " is the signature line
        return None
    return said


@dataclass
class _Shape:
    key: tuple
    values: list[str]  # the fields put in by marker, in marker order
    context: dict[str, Any]  # the context the markers are rendered in


def shape(template: str, context: dict[str, Any], language: str) -> _Shape | None:
    """The shape of one email: its key, its marker values and the context with the markers."""
    found = fields(template)
    if found is None or GREETING in context:
        return None
    key: list[Any] = [template, language]
    values: list[str] = []
    marked = dict(context)

    def put(value: Any) -> Any:
        said = _sayable(value, language)
        if said is None:
            key.append(freeze(value))
            return value
        key.append(_SUB)
        values.append(said)
        return _MARKERS[len(values) - 1] if len(values) <= len(_MARKERS) else f"\ue000{len(values) - 1}\ue001"

    names, attrs, add = found.names, found.attrs, key.append
    try:
        for name in found.referenced:  # the same names in the same order for every email of a template
            value = context.get(name, _MISSING)
            if value is _MISSING:
                add(None)
            elif name in names:  # ``put``, written out: most names of most emails
                said = _sayable(value, language)
                if said is None:
                    add(freeze(value))
                else:
                    add(_SUB)
                    values.append(said)
                    marked[name] = _MARKERS[len(values) - 1] if len(values) <= len(_MARKERS) else \
                        f"\ue000{len(values) - 1}\ue001"
            elif name in attrs and type(value) is dict:
                printed = attrs[name]
                marked[name] = {attr: put(value[attr]) for attr in printed if attr in value}
                key.append(tuple(attr in value for attr in printed))
            else:
                add(freeze(value))
        if found.greeting:
            said = put(full.environment(language=language).globals[GREETING](context["recipient"]))
            marked[GREETING] = lambda recipient, said=said: said
    except Unshareable as exc:
        log.debug("%s rendered per person: %s", template, exc)
        return None
    return _Shape(tuple(key), values, marked)


# -- the page with markers, and each recipient's ----------------------------------------------

@dataclass(frozen=True)
class Page:
    """A rendered shape cut at its markers: literal, slot, literal, … where a slot is the
    marker's index (text) or (index, in an attribute value?) (HTML)."""

    text: tuple
    html: tuple


def compile_page(template: str, marked: dict[str, Any], language: str, count: int) -> Page | None:
    """Render ``template`` once with the markers in, tidy and inline it; None when a marker
    lands where its value could read differently than it would rendered per person."""
    text, html = full.render_raw(template, marked, language)
    # CSS that selects by attribute value could style a marker's element unlike the value's.
    if any("[" in css for css in _STYLE.findall(html)) or _RAW_TEXT.search(_STYLE.sub("", html)):
        return None
    if any(_opens_entity(html, m.start()) for m in _MARKER.finditer(html)):
        return None
    raw = _cut(html, count)
    if raw is None or _html_slots(raw) is None:  # e.g. in an unquoted attribute value
        return None
    inlined = full.inline(html)
    if len(_MARKER.findall(inlined)) != len(_MARKER.findall(html)):
        return None  # a marker the inliner dropped or moved out of the page's text
    cut_text, cut_html = _cut(full.tidy(text), count), _cut(inlined, count)
    if cut_text is None or cut_html is None:
        return None
    slots = _html_slots(cut_html)
    return None if slots is None else Page(cut_text, slots)


def _opens_entity(html: str, at: int) -> bool:
    """Whether the template starts an entity right before ``at``: it could swallow the first
    characters of the field put there ("&not" + "in;" reads as one character)."""
    start = at
    while start > 0 and html[start - 1] in _ENTITY_NAME:
        start -= 1
    return start > 0 and html[start - 1] == "&"


_ENTITY_NAME = frozenset("#0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _cut(text: str, count: int) -> tuple | None:
    """``text`` as literal, marker index, literal, …; None if a stray marker character is left."""
    parts = _MARKER.split(text)
    if any("\ue000" in p or "\ue001" in p for p in parts[0::2]) or any(int(i) >= count for i in parts[1::2]):
        return None
    return tuple(int(p) if n % 2 else p for n, p in enumerate(parts))


_DATA, _TAG, _VALUE, _COMMENT, _SINGLE = range(5)
_TAG_STOP = re.compile("[\"'>]")  # inside a tag: a value opens, or the tag ends
_AFTER = {'"': _VALUE, "'": _SINGLE, ">": _DATA}


def _html_slots(parts: tuple) -> tuple | None:
    """Each marker of the inlined page as (index, in a quoted attribute value?), or None when
    one sits elsewhere than in text or a quoted value (a tag or attribute name, an unquoted
    value, a comment). The inliner writes every value in double quotes, escaping '"' in it."""
    state, out = _DATA, []
    for n, part in enumerate(parts):
        if n % 2 == 0:
            state = _scan(part, state)
            out.append(part)
        elif state in (_DATA, _VALUE, _SINGLE):
            out.append((part, state != _DATA))
        else:
            return None
    return tuple(out)


def _scan(chunk: str, state: int) -> int:
    """The HTML tokenizer's state (coarsely) after ``chunk``, starting in ``state``."""
    i = 0
    while True:
        if state == _DATA:
            j = chunk.find("<", i)
            if j < 0:
                return state
            state, i = (_COMMENT, j + 4) if chunk.startswith("<!--", j) else (_TAG, j + 1)
        elif state == _TAG:
            stop = _TAG_STOP.search(chunk, i)
            if stop is None:
                return state
            state, i = _AFTER[stop.group()], stop.end()
        elif state in (_VALUE, _SINGLE):
            j = chunk.find('"' if state == _VALUE else "'", i)
            if j < 0:
                return state
            state, i = _TAG, j + 1
        else:
            j = chunk.find("-->", i)
            if j < 0:
                return state
            state, i = _DATA, j + 3


def _in_text(value: str) -> str:
    # How the inliner (html5ever's serializer) writes text: & < > and no-break space escaped.
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace("<", "&lt;").replace(">", "&gt;")


def _in_value(value: str) -> str:
    # ... and a double-quoted attribute value: & " and no-break space escaped.
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")


def fill(page: Page, values: list[str]) -> tuple[str, str]:
    """The text and HTML of ``page`` with ``values`` put in."""
    text = "".join(p if n % 2 == 0 else values[p] for n, p in enumerate(page.text))
    html = "".join(p if n % 2 == 0 else (_in_value if p[1] else _in_text)(values[p[0]])
                   for n, p in enumerate(page.html))
    return text, html


_PAGES: OrderedDict[tuple, Page | None] = OrderedDict()
# How many emails were filled from a shape, rendered per person, and how many shapes rendered
# (``bench/fanout.py`` prints them).
STATS: Counter[str] = Counter()


def render(template: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """What ``render.render(template, context, language)`` returns, rendered once per shape."""
    found = shape(template, context, language)
    page = None if found is None else _page(template, found, language)
    if page is None:
        STATS["per person"] += 1
        return full.render(template, context, language)
    STATS["shared"] += 1
    return fill(page, found.values)  # type: ignore[union-attr]


def _page(template: str, found: _Shape, language: str) -> Page | None:
    """The cut page of ``found``'s shape; None: render this email per person. The first email of
    a shape is rendered per person (most answers and summaries are the only one of their shape:
    cutting a page for them would cost more than it saves); the second cuts the page."""
    with _LOCK:
        page = _PAGES.get(found.key, _MISSING)
        if page is _MISSING:
            _keep(found.key, _ONCE)
            return None
        _PAGES.move_to_end(found.key)
        if page is not _ONCE:
            return page  # type: ignore[return-value]
    STATS["shapes"] += 1
    try:
        page = compile_page(template, found.context, language, len(found.values))
    except MailerError:
        page = None  # the full render says what is wrong
    with _LOCK:
        _keep(found.key, page)
    return page


def _keep(key: tuple, page: object) -> None:
    _PAGES[key] = page
    if len(_PAGES) > CACHE_SIZE:
        _PAGES.popitem(last=False)


_ONCE = object()  # a shape seen once, not cut yet
_LOCK = threading.Lock()  # composing may run beside a sending thread (or several)
_MISSING = object()
