"""Safe MIME parsing: raw bytes in, a small typed record out, never an exception.

CPython's ``policy.default`` is slow and raises on access for hostile mail (unknown charsets,
missing boundaries, ``To: <``; see notes/email-safety.md), so we parse with ``compat32`` and
decode headers and bodies ourselves, recording what went wrong in ``defects``.
"""
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from email.message import Message

from mailer.inbound.attachments import InboundFile
from mailer.inbound.headers import addresses, decode_header_value, message_ids, read_sender
from mailer.inbound.mime import (charset_of, content_type, decoded_payload, first_header, header_text,
                                 parse_bytes)

# Header names whose addresses may carry our reply token (notes/email-safety.md, "Token").
RECIPIENT_HEADERS = frozenset({"to", "cc", "delivered-to", "x-original-to", "envelope-to"})
MAX_PARTS = 500
# Outlook sends the invite inline as text/calendar and again as an application/ics attachment.
CALENDAR_TYPES = ("text/calendar", "application/ics")
RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers")


@dataclass
class ParsedMessage:
    """What the rest of the program knows about an incoming message."""

    message_id: str | None
    from_addr: str
    from_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    recipients: list[str]
    headers: list[tuple[str, str]]
    content_type: str
    text: str | None = None
    html: str | None = None
    calendar: str | None = None
    calendar_method: str | None = None
    delivery_status: str | None = None
    return_path: str | None = None
    # The header block of the message a bounce returns (message/rfc822 or text/rfc822-headers).
    returned_headers: list[tuple[str, str]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    files: list[InboundFile] = field(default_factory=list)  # attachments and inline images, undecided
    # Why the From header names nobody we may act for (two From headers, or not one address).
    sender_problem: str | None = None
    # The first value of each header by lower-case name, made on first use (triage asks a dozen).
    _firsts: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    # The HTML part, decoded on first use of ``html`` (``_LazyHtml``): a reply is read from its
    # plain part, and nearly every client sends one.
    _html_part: tuple[Message, dict[str, str] | None] | None = field(default=None, init=False, repr=False,
                                                                     compare=False)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), decoded, or None."""
        return self.firsts().get(name.lower())

    def firsts(self) -> dict[str, str]:
        """The first value of every header, by lower-case name."""
        if self._firsts is None:
            firsts: dict[str, str] = {}
            for key, value in self.headers:
                firsts.setdefault(key.lower(), value)
            self._firsts = firsts
        return self._firsts

    def headers_named(self, name: str) -> list[str]:
        """Every header called ``name`` (case-insensitive), decoded, in order."""
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def has_header(self, name: str) -> bool:
        """Whether a header called ``name`` is present at all (even empty)."""
        return name.lower() in self.firsts()

    def content_param(self, param: str) -> str | None:
        """A parameter of the top Content-Type header (e.g. ``report-type``), lower case."""
        found = re.search(rf"(?:^|;)\s*{re.escape(param)}\s*=\s*\"?([^\";]*)",
                          self.header("content-type") or "", re.IGNORECASE)
        return found.group(1).strip().lower() if found else None


class _LazyHtml:
    """``ParsedMessage.html``: the text of the first HTML part, decoded when first read.

    Decoding it (base64, the charset) costs as much as the plain part, and a reply is read from
    its plain part unless that is empty; files in a reply also read it. The value is the same
    as decoding at parse time, and so are the defects it records, once it has been read.
    """

    def __get__(self, parsed: ParsedMessage | None, owner: type) -> str | None:
        if parsed is None:
            return None  # the dataclass's default
        pending = parsed.__dict__.get("_html_part")
        if pending is not None:
            parsed.__dict__["_html_part"] = None
            parsed.__dict__["html"] = part_text(pending[0], parsed.defects, pending[1])
        return parsed.__dict__.get("html")

    def __set__(self, parsed: ParsedMessage, value: str | None) -> None:
        parsed.__dict__["_html_part"] = None
        parsed.__dict__["html"] = value

    @staticmethod
    def found(parsed: ParsedMessage) -> bool:
        """Whether ``parsed`` has its HTML part, decoded or not (without decoding it)."""
        return parsed.__dict__.get("_html_part") is not None or parsed.__dict__.get("html") is not None


ParsedMessage.html = _LazyHtml()  # after the dataclass: its __init__ sets it like any field


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw message bytes into a ``ParsedMessage``; defects are recorded, not raised."""
    try:
        return _parse(raw)
    except Exception as exc:  # noqa: BLE001 - last resort: an empty record naming the failure
        empty = _from_headers([])
        empty.defects.append(f"unparseable message: {type(exc).__name__}: {exc}")
        return empty


# The stdlib parser costs about a microsecond per line, however short: a hostile 9 MB message
# of 4 million empty lines would take seconds. Real mail is mostly base64 (77 bytes a line):
# 10 MB of it is 140,000 lines. So a message is parsed up to MAX_LINES lines, or one line per
# LINE_BYTES bytes when that is more (a big attachment is never cut), and no further.
MAX_LINES = 200_000
LINE_BYTES = 50


def _first_lines(raw: bytes, limit: int) -> tuple[bytes, bool]:
    """``raw`` up to its ``limit``-th line end, and whether anything was cut."""
    if len(raw) <= limit or raw.count(b"\n") <= limit:  # no more lines than bytes
        return raw, False
    return b"\n".join(raw.split(b"\n", limit)[:limit]) + b"\n", True


# Each MIME part costs the parser tens of microseconds: 260,000 empty parts would take seconds.
# A message is parsed up to this many boundary lines ("--…"; MAX_PARTS are read anyway).
MAX_DELIMITERS = 2 * MAX_PARTS


def _before_nth(raw: bytes, marker: bytes, limit: int) -> tuple[bytes, bool]:
    """``raw`` up to (not including) the line that starts the ``limit + 1``-th ``marker``."""
    if raw.count(marker) <= limit:
        return raw, False
    at = -1
    for _ in range(limit + 1):
        at = raw.find(marker, at + 1)
    return raw[:at + 1], True


# compat32 parses a message/delivery-status part into one Message per block of fields: a hostile
# 9 MB report is 150,000 of them, seconds per megabyte. The part is read as the text it is.
_DSN_TYPE = re.compile(rb"(?im)^(content-type:[ \t]*)message/delivery-status")
DSN_AS_TEXT = "text/x-delivery-status"
DSN_TYPES = ("message/delivery-status", DSN_AS_TEXT)
MAX_STATUS_CHARS = 100_000  # a report names a handful of recipients; this is plenty


def _parse(raw: bytes) -> ParsedMessage:
    limit = max(MAX_LINES, len(raw) // LINE_BYTES)
    raw, cut = _first_lines(raw, limit)
    cut_parts = False
    if raw.count(b"\n") > MAX_DELIMITERS:  # else fewer boundary lines than lines (a quicker count)
        raw, cut_parts = _before_nth(raw, b"\n--", MAX_DELIMITERS)
    if b"delivery-status" in raw.lower():  # a plain search first: the regex costs 10x more
        raw = _DSN_TYPE.sub(rb"\g<1>" + DSN_AS_TEXT.encode(), raw)  # no line end changes
    msg = parse_bytes(raw)  # the compat32 tree, cut quickly when the mail is regular
    parsed = _from_headers(msg._headers)  # noqa: SLF001 - what raw_items() yields, without the copy
    if cut:
        parsed.defects.append(f"message cut at {limit:,} lines")
    if cut_parts:
        parsed.defects.append(f"message cut at {MAX_DELIMITERS:,} MIME boundaries")
    found = content_type(msg)
    parsed.content_type = found[0] if found else _safe(lambda: msg.get_content_type(), "text/plain", parsed.defects)
    if msg.defects:
        parsed.defects.extend(type(d).__name__ for d in msg.defects)
    _collect_bodies(msg, parsed)
    return parsed


def _from_headers(raw_headers: list[tuple[str, str]]) -> ParsedMessage:
    """The record of a message's raw (compat32) headers, each value decoded, bodies still empty."""
    headers: list[tuple[str, str]] = []
    firsts: dict[str, str] = {}
    recipients: list[str] = []
    raw_from: list[str] = []
    for key, raw in raw_headers:
        # decode_header_value's common case inline: plain ASCII on one line (a call per header costs)
        plain = type(raw) is str and raw.isascii() and "=?" not in raw and "\n" not in raw
        value = raw.strip() if plain else decode_header_value(raw)
        headers.append((key, value))
        key = key.lower()
        if key not in firsts:
            firsts[key] = value
        if key in RECIPIENT_HEADERS:
            recipients += [a.lower() for _, a in addresses(value) if "@" in a]
        elif key == "from":
            raw_from.append(raw)
    first = firsts.get
    from_addr, from_name, problem = read_sender(raw_from)
    ids = message_ids(first("message-id"))
    in_reply_to = message_ids(first("in-reply-to"))
    references = first("references")  # the same as In-Reply-To in a first reply: read once
    parsed = ParsedMessage(
        message_id=ids[0] if ids else None,
        from_addr=from_addr,
        from_name=from_name,
        sender_problem=problem,
        subject=first("subject") or "",
        in_reply_to=in_reply_to,
        references=list(in_reply_to) if references == first("in-reply-to") else message_ids(references),
        recipients=recipients,
        headers=headers,
        content_type="text/plain",
        return_path=first("return-path"),
    )
    parsed._firsts = firsts  # noqa: SLF001 - the index ``header`` would build again
    return parsed


def _collect_bodies(msg: Message, parsed: ParsedMessage) -> None:
    """Walk the MIME tree once, keeping the first text, html, calendar and report parts.

    Parts inside an attached message (message/rfc822, as in a bounce that returns our invite)
    belong to that message: they never supply the calendar, and text only as a last resort.
    """
    try:
        parts = _walk(msg)
    except RecursionError:
        parsed.defects.append("mime tree nested too deeply")
        parts = [(msg, False, None, None)]
    inner_text: str | None = None
    for part, embedded, ctype, params in parts[:MAX_PARTS]:
        if ctype is None:
            ctype = _safe(lambda: part.get_content_type(), "application/octet-stream", parsed.defects)
        if ctype in DSN_TYPES:
            if parsed.delivery_status is None and not embedded:
                parsed.delivery_status = _delivery_status_text(part, parsed.defects)
            continue
        if ctype in RETURNED_TYPES and not embedded and not parsed.returned_headers:
            parsed.returned_headers = _returned_headers(part, ctype, parsed.defects)
            continue
        if part.is_multipart():
            continue
        if embedded:
            if ctype == "text/plain" and inner_text is None:
                inner_text = part_text(part, parsed.defects, params)
            continue
        if _is_file(part, ctype) or not _keep_part(part, ctype, parsed, params):
            _add_file(part, ctype, parsed)
    if parsed.text is None and parsed.html is None:
        parsed.text = inner_text


def _returned_headers(part: Message, ctype: str, defects: list[str]) -> list[tuple[str, str]]:
    """The headers of the message a delivery report sends back (RFC 3462: the whole message
    as message/rfc822, or only its header block as text/rfc822-headers)."""
    if ctype == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else None
    else:
        inner = email.message_from_string(part_text(part, defects).lstrip(), policy=email.policy.compat32)
    if not isinstance(inner, Message):
        return []
    return [(k, decode_header_value(v)) for k, v in inner.raw_items()]


def _keep_part(part: Message, ctype: str, parsed: ParsedMessage, params: dict[str, str] | None = None) -> bool:
    """Keep the first text, HTML and calendar part; say whether this part was one of them.

    Apple Mail splits the text around an inline photo into several text parts: those after
    the first are neither kept nor files (a file is a part with a name or a non-text type).
    """
    if ctype == "text/plain" and parsed.text is None:
        parsed.text = part_text(part, parsed.defects, params)
    elif ctype == "text/html" and not _LazyHtml.found(parsed):
        parsed._html_part = (part, params)  # noqa: SLF001 - decoded on first read (_LazyHtml)
    elif ctype in CALENDAR_TYPES and parsed.calendar is None:
        parsed.calendar = part_text(part, parsed.defects, params)
        parsed.calendar_method = _calendar_method(part, parsed.calendar)
    else:
        return ctype in ("text/plain", "text/html") or ctype in CALENDAR_TYPES
    return True


def _is_file(part: Message, ctype: str) -> bool:
    """An attachment, or a part with a file name (an inline photo), that is not a calendar part."""
    if ctype in CALENDAR_TYPES:
        return False
    if first_header(part, "content-disposition") is None and "name" not in header_text(part, "content-type").lower():
        return False  # get_filename reads only these two headers: no parameter to find
    return _is_attachment(part) or bool(_safe(part.get_filename, None, []))


def _add_file(part: Message, ctype: str, parsed: ParsedMessage) -> None:
    """Record a file part with its decoded bytes (``inbound.attachments`` decides what is kept)."""
    try:
        data = decoded_payload(part) or b""
    except Exception as exc:  # noqa: BLE001 - broken transfer encoding: no file to keep
        parsed.defects.append(f"undecodable file part: {exc}")
        return
    name = decode_header_value(_safe(part.get_filename, None, parsed.defects) or "")
    cid = (message_ids(str(part.get("content-id", ""))) or [None])[0]
    inline = str(part.get("content-disposition", "")).strip().lower().startswith("inline") or cid is not None
    parsed.files.append(InboundFile(
        filename=_safe_name(name, ctype), mime_type=ctype, data=data,
        content_id=cid.strip("<>").lower() if cid else None, inline=inline))


def _safe_name(name: str, ctype: str) -> str:
    """A file name that is only a name: no folders, no control characters, not empty."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    return name[:120] or "file." + (ctype.split("/")[-1].split("+")[0] or "bin")


def _is_attachment(part: Message) -> bool:
    # compat32 hands back an email.header.Header (not a str) for a non-ASCII value.
    return str(part.get("content-disposition", "")).strip().lower().startswith("attachment")


def _calendar_method(part: Message, text: str) -> str | None:
    """The iTIP method: the MIME ``method=`` parameter, else ``METHOD:`` inside the text.

    Outlook needs the MIME parameter on invites, but an ``application/ics`` attachment or a
    hand-made reply often carries only the property inside (RFC 5545 §3.7.2 wants both).
    """
    try:
        value = email.utils.collapse_rfc2231_value(part.get_param("method") or "")
    except Exception:  # noqa: BLE001 - hostile parameter
        value = ""
    value = str(value).strip().upper()
    if not value:
        found = re.search(r"^METHOD[^:\n]*:[ \t]*([A-Za-z-]+)", text, re.MULTILINE | re.IGNORECASE)
        value = found.group(1).upper() if found else ""
    return value or None


def _walk(msg: Message) -> list[tuple[Message, bool, str | None, dict[str, str] | None]]:
    """Like ``Message.walk`` but bounded (2,000 nested parts must not blow the stack), and
    telling for each part whether it sits inside an attached message/rfc822, its type and,
    when its Content-Type is plain, its parameters (``mime.content_type``; else None).
    Raises RecursionError past 50 levels. A stack rather than nested generators: same order."""
    found: list[tuple[Message, bool, str | None, dict[str, str] | None]] = []
    stack: list[tuple[Message, int, bool]] = [(msg, 0, False)]
    while stack:
        part, depth, embedded = stack.pop()
        if depth > 50:
            raise RecursionError
        plain = content_type(part)
        ctype, params = plain if plain else (_safe(lambda: part.get_content_type(), None, []), None)
        found.append((part, embedded, ctype, params))  # ctype None: reading the type raised (the caller records why)
        # compat32 parses message/delivery-status into header blocks that look like text/plain parts.
        if part.is_multipart() and ctype != "message/delivery-status":
            inner = embedded or ctype == "message/rfc822"
            subs = [sub for sub in part.get_payload() or [] if isinstance(sub, Message)]
            stack += [(sub, depth + 1, inner) for sub in reversed(subs)]
    return found


def _delivery_status_text(part: Message, defects: list[str]) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # compat32's header blocks (a folded Content-Type escaped _DSN_TYPE)
        return "\n\n".join(p.as_string() for p in payload[:50] if isinstance(p, Message))
    return part_text(part, defects)[:MAX_STATUS_CHARS]


def part_text(part: Message, defects: list[str], params: dict[str, str] | None = None) -> str:
    """Decode one leaf part to text: transfer encoding, then charset, leniently. ``params``:
    the part's Content-Type parameters when already read (``mime.content_type``)."""
    try:
        payload = decoded_payload(part)
    except Exception as exc:  # noqa: BLE001 - broken transfer encoding
        defects.append(f"undecodable body: {exc}")
        payload = None
    if payload is None:
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    charset = charset_of(params) if params is not None else _safe(part.get_content_charset, None, defects)
    charset = str(charset or "utf-8").strip("'\"")
    try:
        text = payload.decode(charset, "replace")
    except (LookupError, ValueError, TypeError):
        defects.append(f"unknown charset {charset!r}")
        text = payload.decode("utf-8", errors="replace")
    if "\r" in text:  # a one-character search is a fraction of a two-character replace
        text = text.replace("\r\n", "\n")
    return text.replace("\x00", "")


def _safe(fn, default, defects: list[str]):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - hostile headers raise on access
        defects.append(f"{type(exc).__name__}: {exc}")
        return default
