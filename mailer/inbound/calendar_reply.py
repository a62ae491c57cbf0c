"""Reading a calendar's answer to our invite (iTIP REPLY or COUNTER), leniently.

Calendars disagree on what a reply holds (notes/calendar-invites.md): Exchange leaves out
ORGANIZER and writes Windows time-zone names ("GMT Standard Time"), Google sends a full copy of
the event with a VALARM and puts the person's note in ``X-RESPONSE-COMMENT`` on the ATTENDEE,
Apple and Thunderbird send one ATTENDEE. We never validate a reply strictly: icalendar reads
it when it can, and a tolerant line reader takes over when it cannot. Nothing here raises.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import icalendar

from mailer.inbound.calendar_lines import plain_event

RSVP_METHODS = ("REPLY", "COUNTER")


@dataclass(frozen=True)
class Rsvp:
    """One attendee's answer, as the calendar sent it."""

    method: str  # REPLY or COUNTER (or what the calendar wrote)
    uid: str | None
    attendee: str | None  # lower case, no "mailto:"
    partstat: str | None  # ACCEPTED, DECLINED, TENTATIVE, DELEGATED, NEEDS-ACTION, upper case
    sequence: int = 0
    dtstamp: datetime | None = None
    recurrence_id: str | None = None  # ISO form of RECURRENCE-ID when one occurrence is answered
    comment: str = ""
    sent_by: str | None = None
    delegated_from: str | None = None
    attendee_name: str | None = None


@dataclass(frozen=True)
class _Attendee:
    address: str
    params: dict[str, str]


# One answer's calendar part is read by routing, by the reading of its intent and by the meetup
# flow: remembered by its text, it is parsed once (icalendar takes about 1 ms a part). The
# result is frozen, so sharing it is safe.
@functools.lru_cache(maxsize=64)
def read_rsvp(calendar_text: str, sender: str | None = None) -> Rsvp | None:
    """The RSVP in ``calendar_text``, or None when it holds no event; never raises.

    ``sender`` (the mail's From) picks the answering attendee when a calendar copied the
    whole guest list into its reply, as Google does.
    """
    return read_with((_read_calendar, _read_lines), calendar_text, sender)


def read_with(readers: tuple, calendar_text: str, sender: str | None = None) -> Rsvp | None:
    """``read_rsvp`` with these readers, tried in turn (a test compares two sets of them)."""
    found = None
    for reader in readers:
        try:
            props, attendees, method = reader(calendar_text)
        except Exception:  # noqa: BLE001 - icalendar refused the text: read it line by line
            continue
        if props is not None and attendees:
            found = (props, attendees, method)
            break
        # icalendar silently drops an ATTENDEE it cannot parse: let the line reader try too.
        found = found or ((props, attendees, method) if props is not None else None)
    try:
        return _build(*found, sender) if found else None
    except Exception:  # noqa: BLE001 - never raise on a calendar we were sent
        return None


# --- icalendar -----------------------------------------------------------------------------

def _read_calendar(text: str) -> tuple[dict[str, str] | None, list[_Attendee], str]:
    """What ``_read_icalendar`` reads, from the lines it needs when the answer is plain
    (``calendar_lines``: a fifth of the time), else from the whole parse."""
    plain = plain_event(text)
    if plain is None:
        return _read_icalendar(text)
    event, method = plain
    return _event_props(event), _event_attendees(event), method


def _read_icalendar(text: str) -> tuple[dict[str, str] | None, list[_Attendee], str]:
    """Properties of the first VEVENT (as plain strings), its attendees, and METHOD."""
    cals = icalendar.Calendar.from_ical(text, multiple=True)
    for cal in cals:
        events = list(cal.walk("VEVENT"))
        if events:
            return _event_props(events[0]), _event_attendees(events[0]), str(cal.get("METHOD", "") or "")
    return None, [], ""


def _event_props(event) -> dict[str, str]:
    props: dict[str, str] = {}
    for name in ("UID", "SEQUENCE", "DTSTAMP", "RECURRENCE-ID", "COMMENT"):
        value = event.get(name)
        if isinstance(value, list):  # a property given twice
            value = value[0] if value else None
        if value is not None:
            props[name] = _ical_value(value)
    return props


def _ical_value(value) -> str:
    """icalendar's value as the text it came from (dates back to their iCalendar form)."""
    inner = getattr(value, "dt", None)
    if isinstance(inner, (datetime, date)):
        return _ical_date(inner)
    try:
        return value.to_ical().decode("utf-8", "replace") if hasattr(value, "to_ical") else str(value)
    except Exception:  # noqa: BLE001 - a broken value: keep what str() gives
        return str(value)


def _ical_date(value: date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return value.strftime("%Y%m%dT%H%M%S")
    return value.strftime("%Y%m%d")


def _event_attendees(event) -> list[_Attendee]:
    found = event.get("ATTENDEE")
    if found is None:
        return []
    found = found if isinstance(found, list) else [found]
    return [_Attendee(_address(str(a)), {k.upper(): str(v) for k, v in a.params.items()}) for a in found]


# --- the tolerant line reader ----------------------------------------------------------------

def _read_lines(text: str) -> tuple[dict[str, str] | None, list[_Attendee], str]:
    """A forgiving reader for text icalendar refuses: the first VEVENT's properties, no VALARM."""
    props: dict[str, str] = {}
    attendees: list[_Attendee] = []
    method, stack, seen_event = "", [], False
    for name, params, value in _content_lines(text):
        if name in ("BEGIN", "END"):
            stack, seen_event = _nest(stack, name, value.upper(), seen_event)
            if seen_event and not stack:
                break
        elif name == "METHOD" and not stack[-1:] == ["VEVENT"]:
            method = method or value
        elif stack[-1:] == ["VEVENT"] and seen_event:
            if name == "ATTENDEE":
                attendees.append(_Attendee(_address(value), params))
            else:
                props.setdefault(name, value)
    return (props if seen_event else None), attendees, method


def _nest(stack: list[str], name: str, component: str, seen_event: bool) -> tuple[list[str], bool]:
    if name == "BEGIN":
        return stack + [component], seen_event or component == "VEVENT"
    if component in stack:
        stack = stack[: len(stack) - 1 - stack[::-1].index(component)]
    # Once the first VEVENT closes we stop: the caller sees an empty VEVENT stack.
    return ([] if component == "VEVENT" else stack), seen_event


def _content_lines(text: str):
    """(NAME, {PARAM: value}, value) for each unfolded content line."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    for line in unfolded.split("\n"):
        head, value = _split_line(line)
        if head is None:
            continue
        name, *raw_params = _split_params(head)
        params = {}
        for raw in raw_params:
            key, _, val = raw.partition("=")
            params[key.strip().upper()] = val.strip().strip('"')
        yield name.strip().upper(), params, value.strip()


def _split_line(line: str) -> tuple[str | None, str]:
    """Split at the first colon outside double quotes (``CN="Doe: Jane"`` keeps its colon)."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[:i], line[i + 1:]
    return None, ""


def _split_params(head: str) -> list[str]:
    return [part for part in re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', head) if part]


def _unescape(value: str) -> str:
    return re.sub(r"\\([nN,;\\])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


# --- building the answer -----------------------------------------------------------------------

def _build(props: dict[str, str], attendees: list[_Attendee], method: str, sender: str | None) -> Rsvp:
    who = _answering(attendees, sender)
    params = who.params if who else {}
    comment = props.get("COMMENT") or params.get("X-RESPONSE-COMMENT") or ""
    return Rsvp(
        method=method.strip().upper() or "REPLY",
        uid=props.get("UID", "").strip() or None,
        attendee=who.address if who else None,
        partstat=(params.get("PARTSTAT") or "").strip().upper() or None,
        sequence=_int(props.get("SEQUENCE")),
        dtstamp=_utc_stamp(props.get("DTSTAMP")),
        recurrence_id=_iso(props.get("RECURRENCE-ID")),
        comment=_unescape(comment).strip(),
        sent_by=_address(params["SENT-BY"]) if params.get("SENT-BY") else None,
        delegated_from=_address(params["DELEGATED-FROM"]) if params.get("DELEGATED-FROM") else None,
        attendee_name=params.get("CN") or None,
    )


def _answering(attendees: list[_Attendee], sender: str | None) -> _Attendee | None:
    """The attendee who answered: the only one; else the sender; else the one who said something."""
    if len(attendees) <= 1:
        return attendees[0] if attendees else None
    sender = (sender or "").lower()
    for pick in (lambda a: a.address == sender,
                 lambda a: "X-RESPONSE-COMMENT" in a.params,
                 lambda a: a.params.get("PARTSTAT", "NEEDS-ACTION").upper() != "NEEDS-ACTION"):
        chosen = [a for a in attendees if pick(a)]
        if chosen:
            return chosen[0]
    return attendees[0]


def _address(value: str) -> str:
    """``MAILTO:Bob@Corp.Example.com`` -> ``bob@corp.example.com``."""
    value = value.strip().strip('"')
    return re.sub(r"^mailto:", "", value, flags=re.IGNORECASE).strip().lower()


def _int(value: str | None) -> int:
    found = re.match(r"\s*(\d+)", value or "")
    return int(found.group(1)) if found else 0


def _utc_stamp(value: str | None) -> datetime | None:
    """DTSTAMP is UTC by definition (RFC 5545 §3.8.7.2); a missing ``Z`` is read as UTC too."""
    found = re.match(r"\s*(\d{8})T(\d{6})", value or "")
    if not found:
        return None
    try:
        return datetime.strptime("".join(found.groups()), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _iso(value: str | None) -> str | None:
    """RECURRENCE-ID in ISO form (``2027-02-10T17:00:00Z`` or ``2027-02-10``)."""
    found = re.match(r"\s*(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?", value or "")
    if not found:
        return (value or "").strip() or None
    y, mo, d, h, mi, s, z = found.groups()
    return f"{y}-{mo}-{d}" if h is None else f"{y}-{mo}-{d}T{h}:{mi}:{s}{z}"
