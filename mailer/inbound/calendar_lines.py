"""The few lines of a plain calendar answer that an RSVP needs, read by icalendar's own parser.

``icalendar.Calendar.from_ical`` builds every property of every component (about 1 ms for a
20-line REPLY, 2,000 answers a day at 5,000 members). An answer's reading needs six properties
of its first VEVENT (UID, SEQUENCE, DTSTAMP, RECURRENCE-ID, COMMENT, ATTENDEE) and METHOD. For
a *plain* answer, one VCALENDAR holding only VEVENTs, every property line a bare
``NAME[;params]:value``, the calendar's own properties text without parameters, those lines are
parsed here with the calls ``from_ical`` makes for them (``Contentline.parts``, the property's
value type, ``Component.add``) into an ``icalendar.Event``: the same values, read the same way.

What makes ``from_ical`` fail or read a property otherwise decides nothing here: anything else
(a VTIMEZONE, a VALARM, a second calendar, a line whose name is not a bare token, a TZID on a
RECURRENCE-ID, a value its type refuses, an unbalanced BEGIN/END, a METHOD given twice) gets
None, and the caller parses the text whole. Lines of a VEVENT this reading skips cannot change
the outcome: ``from_ical`` tolerates a broken line or value inside a VEVENT (it records it in
``errors`` and goes on), and none of them opens or closes a component.
"""
from __future__ import annotations

import functools
import re

import icalendar
from icalendar.parser import Contentline, Parameters
from icalendar.parser.content_line import NEWLINE, UFOLD
from icalendar.parser.ical.component import ComponentIcalParser
from icalendar.parser.property import unescape_backslash
from icalendar.prop import vText, vUnknown

NEEDED = frozenset({"UID", "SEQUENCE", "DTSTAMP", "RECURRENCE-ID", "COMMENT", "ATTENDEE"})
# A property name as RFC 5545 3.1 spells it, right before its parameters or value: for such a
# line ``Contentline.parts`` gives this same name (it only differs for quotes, backslashes or
# blanks before the first delimiter, which send the text to the whole parse).
_NAME = re.compile(r"[A-Za-z0-9-]+(?=[;:])")
_COMPONENT = re.compile(r"(BEGIN|END):([A-Za-z0-9-]+)", re.IGNORECASE)
_TYPES = icalendar.Calendar.types_factory
# Calendar properties whose value type reads any text: a bare ``NAME:value`` line of them
# can neither fail ``parts`` nor its type, so the whole parse would not refuse it either.
_ANY_TEXT = (vText, vUnknown)


def plain_event(text: str) -> tuple[icalendar.Event, str] | None:
    """The first VEVENT's needed properties and the calendar's METHOD, or None when ``text``
    is not a plain answer (the caller then parses it whole)."""
    stack: list[str] = []
    event, events, method = icalendar.Event(), 0, None
    for line in NEWLINE.split(UFOLD.sub("", text)):  # as Contentlines.from_ical unfolds and splits
        if not line:
            continue
        found = _NAME.match(line)
        if found is None or (events and not stack):  # nothing may follow END:VCALENDAR
            return None
        name = found.group().upper()
        if name in ("BEGIN", "END"):
            stack = _nest(stack, line)
            if stack is None:
                return None
            events += name == "BEGIN" and len(stack) == 2
        elif stack == ["VCALENDAR"]:
            value = _calendar_text(line, name)
            if value is None or (name == "METHOD" and method is not None):
                return None  # a METHOD given twice is a list to from_ical
            method = value if name == "METHOD" else method
        elif len(stack) != 2:
            return None  # a property before BEGIN:VCALENDAR
        elif events == 1 and name in NEEDED and not _add(event, line, name):
            return None
    return (event, method or "") if events and not stack else None


def _nest(stack: list[str], line: str) -> list[str] | None:
    """The component stack after a BEGIN or END line; None when the shape is not plain:
    one VCALENDAR holding VEVENTs, every END closing the component its BEGIN opened."""
    found = _COMPONENT.fullmatch(line)
    if found is None:
        return None
    verb, component = found.group(1).upper(), found.group(2).upper()
    if verb == "END":
        return stack[:-1] if stack and stack[-1] == component else None
    if (not stack and component == "VCALENDAR") or (stack == ["VCALENDAR"] and component == "VEVENT"):
        return stack + [component]
    return None


def _calendar_text(line: str, name: str) -> str | None:
    """A calendar property's value as from_ical reads it; None unless it is ``NAME:value``
    of a type that reads any text (then neither ``parts`` nor the type can refuse it)."""
    factory = _factory(name, None)
    if line[len(name)] != ":" or factory not in _ANY_TEXT:
        return None
    if name != "METHOD":
        return ""
    getter = getattr(factory, "get_value_from_content_line", None)
    value = getter(Contentline(line)) if getter is not None else _parts(line, name)[1]
    return str(factory(factory.from_ical(value)))


@functools.lru_cache(maxsize=256)
def _factory(name: str, value_type: str | None) -> type:
    """The value type from_ical gives a property (``TypesFactory.for_property``: a few
    case-insensitive look-ups, made once per name and VALUE)."""
    return _TYPES.for_property(name, value_type)


def _parts(line: str, name: str) -> tuple[Parameters, str]:
    """``Contentline.parts`` of a line starting with the bare token ``name``. Without parameters
    its delimiter is the colon right after the name, so parts would give no parameters and the
    rest unescaped: done here without its walk over every character (a third of the time)."""
    if line[len(name)] == ":":
        return Parameters(), unescape_backslash(line[len(name) + 1:])
    _, params, value = Contentline(line).parts()
    return params, value


def _add(event: icalendar.Event, line: str, name: str) -> bool:
    """Add one needed property to ``event`` as from_ical does (``ComponentIcalParser.
    handle_property``); False when from_ical would read it otherwise (a TZID, a broken value)."""
    try:
        params, value = _parts(line, name)
    except ValueError:
        return True  # from_ical skips a line it cannot split inside a VEVENT, and so do we
    if name in ComponentIcalParser.datetime_names and params.get("TZID"):
        return False  # a time in a zone the calendar may define: the whole parse knows it
    factory = _factory(name, params.value)
    getter = getattr(factory, "get_value_from_content_line", None)
    if getter is not None:
        value = getter(Contentline(line))
    try:
        parsed = factory.from_ical(value)
    except (ValueError, TypeError):
        return False  # from_ical keeps it as vBroken
    found = factory(parsed)
    found.params = params
    event.add(name, found, encode=False)
    return True
