"""What a calendar sends when a person presses Accept, Decline or Maybe on our invitation.

An iTIP REPLY (RFC 5546 §3.2.3) to the ORGANIZER, with the event's UID and the SEQUENCE of the
invitation answered, and one ATTENDEE: the person, with their PARTSTAT. Each client wraps it
its own way (notes/calendar-invites.md), and the simulation writes all three:

- Outlook / Exchange: ``Accepted: <title>``, multipart/alternative with the person's note and the
  calendar part base64-encoded; no ORGANIZER in the REPLY, the note in COMMENT;
- Google Calendar: sent "on behalf of" by Google, the whole event copied back with ORGANIZER,
  the note in the attendee's ``X-RESPONSE-COMMENT``, and an ``invite.ics`` attachment;
- Apple Calendar (and iPhones): a one-line text and an ``.ics`` attachment, quoted-printable.

None of them carries our reply token or an In-Reply-To: the service finds the meetup by UID.
Pure: the clock is ``now``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import quoprimime
from email.header import Header
from email.message import Message
from email.utils import format_datetime, formataddr, parseaddr

import icalendar

from mailer.outbound.envelope import new_message_id
from mailer.outbound.invite import fold
from mailer.simulation.mime import Headers, Part, text_body, text_leaf, to_message, write
from mailer.simulation.reading import calendar_text

NAME_END = re.compile(r"[;:]")
# what differs between the invitees of one version of an event (nothing an Invitation keeps):
# those content lines, folded or not (RFC 5545 §3.1: a line break then a blank continues a line)
PER_INVITEE_LINE = re.compile(r"(?im)^(?:ATTENDEE|DTSTAMP|DESCRIPTION)[;:].*(?:\r?\n[ \t].*)*(?:\r?\n|\Z)")
_versions: dict[str, Invitation | None] = {}  # an event's other lines -> what they say
WORDS = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}
VERBS = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentatively accepted"}


@dataclass(frozen=True)
class Invitation:
    """What a calendar keeps from an invitation it was sent."""

    uid: str
    sequence: int
    title: str
    start: datetime
    end: datetime
    organizer: str
    location: str


def read_invitation(raw: bytes) -> Invitation | None:
    """The event in an invitation email's calendar part, or None when it has none.

    A meetup's invitations differ between invitees only in the ATTENDEE (and the time stamp and
    the description in their language), so a calendar part is parsed once per version of the
    event: what else it says is the key (``_versions``).
    """
    ics = calendar_text(raw)
    if ics is None:
        return None
    return _version(PER_INVITEE_LINE.sub("", ics), ics)


def _name(line: str) -> str:
    return NAME_END.split(line, 1)[0].upper()


def _version(key: str, ics: str) -> Invitation | None:
    if key not in _versions:
        if len(_versions) >= 64:
            _versions.clear()
        _versions[key] = _parse(ics)
    return _versions[key]


def _parse(ics: str) -> Invitation | None:
    cal = icalendar.Calendar.from_ical(ics)
    for event in cal.walk("VEVENT"):
        return Invitation(str(event["UID"]), int(event.get("SEQUENCE", 0)), str(event["SUMMARY"]),
                          event.decoded("DTSTART"), event.decoded("DTEND"),
                          str(event.get("ORGANIZER", "")).removeprefix("mailto:"), str(event.get("LOCATION", "")))
    return None


def reply(invitation: Invitation, client: str, address: str, name: str, partstat: str, note: str,
          now: datetime, sent_by: str | None = None) -> bytes:
    """The bytes ``client`` sends when ``address`` answers ``partstat`` (with an optional note).

    ``sent_by``: someone else (an assistant, RFC 5545 SENT-BY) answers for ``address`` from
    their own mailbox: the ATTENDEE carries ``SENT-BY="mailto:…"`` and the mail is From them.
    """
    return write(_answer(invitation, client, address, name, partstat, note, now, sent_by))


def reply_message(invitation: Invitation, client: str, address: str, name: str, partstat: str, note: str,
                  now: datetime, sent_by: str | None = None) -> Message:
    """``reply``'s message, before it is written out as bytes."""
    return to_message(_answer(invitation, client, address, name, partstat, note, now, sent_by))


def _answer(inv: Invitation, client: str, address: str, name: str, partstat: str, note: str, now: datetime,
            sent_by: str | None) -> Part:
    writer = {"outlook": _outlook, "gmail": _google}.get(client, _apple)
    (headers, body), to, subject = writer(inv, address, name, partstat, note, now, sent_by)
    # compat32 messages need non-ASCII header text wrapped, or as_bytes() refuses it
    return [*headers, ("From", sent_by or formataddr((name, address), charset="utf-8")), ("To", to),
            ("Subject", subject if subject.isascii() else Header(subject, "utf-8")), ("Date", format_datetime(now)),
            ("Message-ID", new_message_id(address.partition("@")[2] or "example.test"))], body


# The lines of an answer that are the person's own; the rest of a calendar is the same for
# everyone answering one version of the event with one client, one PARTSTAT and a note or none.
OWN_LINES = frozenset({"ATTENDEE", "DTSTAMP", "COMMENT", "LAST-MODIFIED"})
# (invitation, client, partstat, with a note) -> the calendar's lines, each a constant line
# (with its line end) or the name of one of OWN_LINES; bounded as ``_versions``
_answers: dict[tuple[Invitation, str, str, bool], tuple[str, ...]] = {}
CONTENT_LINE_END = re.compile(r"\r\n(?![ \t])")  # a line end that no blank follows (RFC 5545 §3.1)
PRODIDS = {"outlook": "Microsoft Exchange Server 2010", "gmail": "-//Google Inc//Google Calendar 70.9054//EN",
           "apple": "-//Apple Inc.//macOS 14.2//EN"}


def _ics(inv: Invitation, client: str, address: str, name: str, partstat: str, note: str, now: datetime,
         sent_by: str | None) -> bytes:
    """The calendar ``client`` sends, byte for byte what ``_built`` writes with icalendar (tested):
    written once per version, client, PARTSTAT and note or none, and the person's own lines put in."""
    key = (inv, client, partstat, bool(note))
    if key not in _answers:
        if len(_answers) >= 64:
            _answers.clear()
        _answers[key] = _lines(_built(inv, client, address, name, partstat, note, now, sent_by))
    own = _own_lines(_properties(inv, client, address, name, partstat, note, now, sent_by))
    return "".join(own.get(line, line) for line in _answers[key]).encode("utf-8")


def _lines(ics: bytes) -> tuple[str, ...]:
    lines = CONTENT_LINE_END.split(ics.decode("utf-8"))[:-1]  # what follows the last line end is empty
    return tuple(name if (name := _name(line)) in OWN_LINES else line + "\r\n" for line in lines)


def _own_lines(properties: list[tuple[str, object]]) -> dict[str, str]:
    # icalendar writes each line (parameters, quoting, escaping); the folding is the invitations' own (outbound.invite)
    event = icalendar.Event()
    for key, value in properties:
        if key.upper() in OWN_LINES:
            event.add(key, value)
    return {key: fold(str(event.content_line(key, value))).decode("utf-8") + "\r\n" for key, value in event.items()}


def _properties(inv: Invitation, client: str, address: str, name: str, partstat: str, note: str, now: datetime,
                sent_by: str | None) -> list[tuple[str, object]]:
    """The event's properties as ``client`` writes them in its answer."""
    stamp = now.astimezone(timezone.utc).replace(microsecond=0)
    params = {"outlook": {}, "apple": {"CUTYPE": "INDIVIDUAL", "EMAIL": address},
              "gmail": {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "X-NUM-GUESTS": "0",
                        **({"X-RESPONSE-COMMENT": note} if note else {})}}[client]
    attendee = icalendar.vCalAddress(f"mailto:{address}")
    attendee.params.update({"CN": name, "PARTSTAT": partstat, **params})
    if sent_by:
        attendee.params["SENT-BY"] = f"mailto:{sent_by}"
    common = [("attendee", attendee), ("dtstart", inv.start), ("dtend", inv.end), ("dtstamp", stamp),
              ("uid", inv.uid), ("sequence", inv.sequence)]
    if client == "outlook":  # Exchange puts its verdict in SUMMARY
        return [*common, ("summary", f"{WORDS[partstat]}: {inv.title}"), *([("comment", note)] if note else []),
                ("class", "PUBLIC"), ("priority", 5), ("transp", "OPAQUE"), ("status", "CONFIRMED"),
                ("location", inv.location), ("x-microsoft-cdo-appt-sequence", str(inv.sequence))]
    if client == "gmail":
        return [*common, ("organizer", icalendar.vCalAddress(f"mailto:{inv.organizer}")), ("summary", inv.title),
                ("location", inv.location), ("status", "CONFIRMED"), ("transp", "OPAQUE"), ("last-modified", stamp)]
    return [*common, ("summary", inv.title)]


def _built(inv: Invitation, client: str, address: str, name: str, partstat: str, note: str, now: datetime,
           sent_by: str | None) -> bytes:
    """The calendar ``client`` sends, written whole by icalendar."""
    event = icalendar.Event()
    for key, value in _properties(inv, client, address, name, partstat, note, now, sent_by):
        event.add(key, value)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODIDS[client])
    cal.add("version", "2.0")
    cal.add("method", "REPLY")
    cal.add_component(event)
    return cal.to_ical()


def _calendar_part(data: bytes) -> Part:
    """The calendar as ``text_part`` then ``set_param("method", "REPLY")`` leave it (the
    parameter added, the Content-Type header moved last)."""
    (kind, *rest), body = text_leaf(data.decode("utf-8"), "calendar", 'method="REPLY"')
    return [*rest, kind], body


def _multipart(subtype: str, *parts: Part) -> tuple[Headers, list[Part]]:
    return [("Content-Type", f"multipart/{subtype}"), ("MIME-Version", "1.0")], list(parts)


# Each client: (the message without From, To, Subject, Date and Message-ID; To; Subject)

def _outlook(inv: Invitation, address: str, name: str, partstat: str, note: str, now: datetime,
             sent_by: str | None) -> tuple[Part, str, str]:
    headers, parts = _multipart("alternative", text_leaf(note + "\n", "plain"),
                                _calendar_part(_ics(inv, "outlook", address, name, partstat, note, now, sent_by)))
    headers += [("Thread-Topic", inv.title if inv.title.isascii() else Header(inv.title, "utf-8")),
                ("X-Auto-Response-Suppress", "All")]
    return (headers, parts), inv.organizer, f"{WORDS[partstat]}: {inv.title}"


def _google(inv: Invitation, address: str, name: str, partstat: str, note: str, now: datetime,
            sent_by: str | None) -> tuple[Part, str, str]:
    data = _ics(inv, "gmail", address, name, partstat, note, now, sent_by)
    body = _multipart("alternative", text_leaf(f"{name} has {VERBS[partstat]} this invitation.\n\n{note}\n", "plain"),
                      _calendar_part(data))
    # MIMEBase("application", "ics", name=…), set_payload(…, "utf-8") and add_header leave these
    ics = ([("MIME-Version", "1.0"), ("Content-Type", 'application/ics; name="invite.ics"; charset="utf-8"'),
            ("Content-Transfer-Encoding", "base64"), ("Content-Disposition", 'attachment; filename="invite.ics"')],
           text_body(data.decode("utf-8")))
    headers, parts = _multipart("mixed", body, ics)
    headers += [("Sender", "Google Calendar <calendar-notification@google.com>"),
                ("Reply-To", formataddr((name, address), charset="utf-8"))]
    when = inv.start.astimezone(timezone.utc)
    return (headers, parts), inv.organizer, f"{WORDS[partstat]}: {inv.title} @ {when:%a %d %b %Y %H:%M} (UTC) ({address})"


def _apple(inv: Invitation, address: str, name: str, partstat: str, note: str, now: datetime,
           sent_by: str | None) -> tuple[Part, str, str]:
    data = _ics(inv, "apple", address, name, partstat, note, now, sent_by)
    file = f"iCal-{now:%Y%m%d-%H%M%S}.ics"
    # MIMEText with a quoted-printable UTF-8 charset, then set_param twice and add_header leave these
    ics = ([("MIME-Version", "1.0"), ("Content-Transfer-Encoding", "quoted-printable"),
            ("Content-Type", f'text/calendar; charset="utf-8"; method="REPLY"; name="{file}"'),
            ("Content-Disposition", f'attachment; filename="{file}"')],
           quoprimime.body_encode(data.decode("latin-1")))
    headers, parts = _multipart("mixed", text_leaf(f"{name} has {VERBS[partstat]} your event.\n", "plain"), ics)
    headers += [("X-Mailer", "Apple Mail (2.3774.600.62)")]
    return (headers, parts), parseaddr(inv.organizer)[1] or inv.organizer, f"Invitation: {inv.title} - {WORDS[partstat]}"
