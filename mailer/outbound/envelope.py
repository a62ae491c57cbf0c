"""Envelopes: headers, Message-ID, reply tokens, and the bytes that go on the wire.

We build with the ``email.mime`` classes and serialise once with CRLF line endings (bare LF is
refused by real servers: notes/email-safety.md); this is about 2.5x faster than ``EmailMessage``
with ``policy.default`` (notes/performance.md). Bodies are quoted-printable so the raw message
stays readable and no line passes SMTP's 998-character limit. The bytes are fixed at enqueue,
so a retry resends exactly what the first attempt sent.
"""
from __future__ import annotations

import base64
import binascii
import re
import email.charset
import email.policy
import secrets
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from email.header import Header
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from mailer.errors import AddressError
from mailer.flows.base import Attachment
from mailer.outbound import addresses
from mailer.outbound.safe_text import display_name, one_line

TOKEN_BYTES = 12  # 96 bits: notes/email-safety.md asks for at least 80
SHORT_REF = 10  # characters of the token printed in the body as a fallback reference


class _Wire(email.policy.Compat32):
    """compat32 with CRLF that writes a short plain-ASCII header as it is.

    compat32 passes every header through ``email.header.Header`` even when nothing needs
    folding: most of the cost of building a message. Headers are not folded below 998
    characters, so List-Unsubscribe stays on one line (RFC 8058).
    """

    def _fold(self, name, value, sanitize):
        if (isinstance(value, str) and value.isascii() and "\r" not in value and "\n" not in value
                and len(name) + 2 + len(value) <= self.max_line_length):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


WIRE = _Wire(linesep="\r\n", max_line_length=998)
UTF8_QP = email.charset.Charset("utf-8")
UTF8_QP.body_encoding = email.charset.QP


def new_token() -> str:
    """An unguessable reply token that survives case-folding: base32, lower case, no padding."""
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=").lower()


def new_message_id(domain: str) -> str:
    """A globally unique Message-ID in our domain, fixed when the email is enqueued."""
    return f"<{secrets.token_hex(12)}@{domain}>"


def plus_address(address: str, token: str) -> str:
    """``local+TOKEN@domain`` for our mailbox ``local@domain``."""
    local, _, domain = address.partition("@")
    return f"{local}+{token}@{domain}"


VERP_PREFIX = "b-"
_RANDOM_ID = re.compile(r"^<([0-9a-f]{16,64})@")


def verp_sender(address: str, message_id: str) -> str:
    """The envelope sender for one email: ``local+b-ID@domain``, ID being the random part of
    its Message-ID (VERP: a bounce comes back to this address, so it names the email that
    bounced, and only someone who saw that email can name it). Our own address when the
    Message-ID is not one we made."""
    found = _RANDOM_ID.match(message_id)
    return plus_address(address, VERP_PREFIX + found.group(1)) if found else address


def verp_message_id(token: str, address: str) -> str:
    """The Message-ID a VERP token (the part after ``b-``) stands for."""
    return f"<{token.lower()}@{address.partition('@')[2] or 'localhost'}>"


@dataclass(frozen=True)
class Envelope:
    """Everything the header block needs."""

    message_id: str
    from_name: str
    from_addr: str
    to_name: str
    to_addr: str
    subject: str
    date: datetime
    reply_to: str | None = None
    in_reply_to: str | None = None
    recurring: bool = False
    auto_reply: bool = False
    unsubscribe: str | None = None  # the mailto: address a List-Unsubscribe points at
    unsubscribe_url: str | None = None  # an https URL for one-click unsubscribe (RFC 8058)
    extra_headers: tuple[tuple[str, str], ...] = ()


def build(env: Envelope, text: str, html: str, attachments: tuple[Attachment, ...] = (),
          calendar: tuple[str, bytes] | None = None) -> bytes:
    """The complete message as CRLF bytes: multipart/alternative text+HTML, plus attachments.

    ``calendar`` is (METHOD, iCalendar bytes): an inline ``text/calendar; method=…`` part inside
    the alternative (Outlook needs it there) and the same bytes again as ``invite.ics`` (Apple
    Mail and some webmail only look for the attachment; notes/calendar-invites.md).
    """
    if not attachments and not calendar:
        return _alternative(env, text, html)
    if not attachments and calendar:
        return _invitation(env, text, html, *calendar)
    inline = [item for item in attachments if item.content_id]
    attached = [item for item in attachments if not item.content_id]
    body = _multipart("alternative")
    body.attach(MIMEText(text, "plain", UTF8_QP))
    body.attach(_html_with_images(html, inline))
    if calendar:
        body.attach(_calendar_part(*calendar))
    root: MIMEBase = body
    if attached or calendar:
        root = _multipart("mixed")
        root.attach(body)
        for item in attached:
            root.attach(_attachment(item))
        if calendar:
            ics = _attachment(Attachment("invite.ics", "application/ics", calendar[1]))
            ics.set_param("name", "invite.ics")
            root.attach(ics)
    _headers(root, env)
    return root.as_bytes(policy=WIRE)


def _alternative(env: Envelope, text: str, html: str) -> bytes:
    """Text + HTML, written directly: the same headers and the same decoded parts as the
    ``email.mime`` classes give (tested), without building and walking a part tree per message,
    which was most of composing's cost. ``binascii.b2a_qp`` also escapes a lone "." line."""
    boundary = f"=_{secrets.token_hex(12)}"
    wire = _head(f'multipart/alternative; boundary="{boundary}"', env)
    sep = f"\r\n--{boundary}\r\n".encode("ascii")
    return b"".join((wire, b"\r\n", sep[2:], _QP_HEAD % b"plain", _qp(text), sep,
                     _QP_HEAD % b"html", _qp(html), f"\r\n--{boundary}--\r\n".encode("ascii")))


def _invitation(env: Envelope, text: str, html: str, method: str, data: bytes) -> bytes:
    """Text + HTML + the calendar, and the calendar again as ``invite.ics``: the tree ``build``
    makes with the ``email.mime`` classes for a meetup's emails, written directly (the same
    headers and decoded parts, tested; a meetup's invitations are a fan-out too, issue 25)."""
    outer, inner = f"=_{secrets.token_hex(12)}", f"=_{secrets.token_hex(12)}"
    wire = _head(f'multipart/mixed; boundary="{outer}"', env)
    out_sep, in_sep = f"\r\n--{outer}\r\n".encode("ascii"), f"\r\n--{inner}\r\n".encode("ascii")
    encoded = _base64(data)
    return b"".join((
        wire, b"\r\n", out_sep[2:],
        b'Content-Type: multipart/alternative; boundary="%s"\r\nMIME-Version: 1.0\r\n\r\n' % inner.encode("ascii"),
        in_sep[2:], _QP_HEAD % b"plain", _qp(text), in_sep, _QP_HEAD % b"html", _qp(html), in_sep,
        _CALENDAR_HEAD % method.encode("ascii"), encoded, f"\r\n--{inner}--\r\n".encode("ascii"),
        out_sep, _ICS_HEAD, encoded, f"\r\n--{outer}--\r\n".encode("ascii")))


_CALENDAR_HEAD = (b'MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n'
                  b'Content-Type: text/calendar; charset="utf-8"; method="%s"\r\n\r\n')
_ICS_HEAD = (b'MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n'
             b'Content-Disposition: attachment; filename="invite.ics"\r\n'
             b'Content-Type: application/ics; name="invite.ics"\r\n\r\n')


def _base64(data: bytes) -> bytes:
    """``data`` in base64 lines of 76 characters, each ended by CRLF (as ``email.encoders``)."""
    return b"".join(binascii.b2a_base64(data[i:i + 57]).replace(b"\n", b"\r\n") for i in range(0, len(data), 57))


_QP_HEAD = (b'Content-Type: text/%s; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")


def _qp(text: str) -> bytes:
    """A body as quoted-printable with CRLF line ends (lines of at most 76 characters).

    Quoted-printable encodes each line on its own (``b2a_qp`` starts afresh after a line
    break), so a line is encoded once and remembered: a fan-out's emails share most of their
    lines (issue 25). The same bytes as ``b2a_qp`` of the whole text (tested)."""
    lines = text.splitlines()
    if not lines:
        return b"\r\n" if text.endswith(("\n", "\r")) else b""
    found = list(map(_QP_LINES.get, lines))
    # The last line is followed by no line break: encoded as such, each time.
    found[-1] = binascii.b2a_qp(lines[-1].encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    if None in found:
        if len(_QP_LINES) > _QP_LINES_KEPT:
            _QP_LINES.clear()
        for n, line in enumerate(lines):
            if found[n] is None:
                found[n] = _qp_line(line)
    return b"\r\n".join(found) + (b"\r\n" if text.endswith(("\n", "\r")) else b"")


def _qp_line(line: str) -> bytes:
    """A line followed by a line break, encoded (without its line break) and remembered."""
    encoded = binascii.b2a_qp(line.encode("utf-8") + b"\n", istext=True)[:-1].replace(b"\n", b"\r\n")
    _QP_LINES[line] = encoded
    return encoded


_QP_LINES: dict[str, bytes] = {}
_QP_LINES_KEPT = 4096  # lines (a few hundred bytes each at most): emptied when full


def _multipart(subtype: str) -> MIMEMultipart:
    # A boundary of our own: left unset, the standard library compiles a regex per message to
    # check a random one against the text. "=_" cannot occur in quoted-printable or base64.
    part = MIMEMultipart(subtype)
    part.set_boundary(f"=_{secrets.token_hex(12)}")
    return part


def _headers(msg: MIMEBase, env: Envelope) -> None:
    for name, value in _header_items(env):
        msg[name] = value


def _head(content_type: str, env: Envelope) -> bytes:
    """The header block of a message whose Content-Type is ``content_type``: what a compat32
    ``Message`` given these headers in this order writes with ``WIRE`` (tested), without the
    ``Message`` (issue 25: composing a day's emails)."""
    items = [("Content-Type", content_type), ("MIME-Version", "1.0"), *_header_items(env)]
    return "".join(_fold(name, value) for name, value in items).encode("ascii")


def _fold(name: str, value: str) -> str:
    """``WIRE.fold(name, value)``: its short plain-ASCII path here, the rest remembered."""
    if (value.isascii() and "\r" not in value and "\n" not in value
            and len(name) + 2 + len(value) <= WIRE.max_line_length):
        return f"{name}: {value}\r\n"
    return _folded(name, value)


@lru_cache(maxsize=2048)  # an encoded subject is folded again by compat32, as slowly: subjects repeat
def _folded(name: str, value: str) -> str:
    return WIRE.fold(name, value)


def _header_items(env: Envelope) -> list[tuple[str, str]]:
    """The headers of ``env`` in order, as (name, value) to set on a message."""
    # Every value built from data passes through safe_text: one line, no control characters.
    items = [("Message-ID", env.message_id), ("Date", _date(env.date, env.date.utcoffset())),
             ("From", _address(env.from_name, env.from_addr)), ("To", _address(env.to_name, env.to_addr)),
             ("Subject", _encoded(one_line(env.subject)))]
    if env.reply_to:
        items.append(("Reply-To", env.reply_to))
    if env.in_reply_to:
        items += [("In-Reply-To", env.in_reply_to), ("References", env.in_reply_to)]
    # RFC 3834: scheduled mail is auto-generated; answers to a person are auto-replied.
    items.append(("Auto-Submitted", "auto-replied" if env.auto_reply else "auto-generated"))
    # Asks Exchange/Outlook not to send out-of-office notices back to us (MS-OXCMAIL).
    items.append(("X-Auto-Response-Suppress", "All"))
    if env.recurring and env.unsubscribe:
        items += _list_unsubscribe(env)
    items += [(name, _encoded(one_line(value))) for name, value in env.extra_headers]
    return items


@lru_cache(maxsize=64)
def _date(moment: datetime, offset: object) -> str:
    """The Date header of ``moment``: a tick's emails share one ``now`` (issue 25). ``offset``
    is part of the key: equal instants in two zones are equal datetimes but other headers."""
    return format_datetime(moment)


@lru_cache(maxsize=1024)  # the From of every email is the same (issue 25: composing a day's emails)
def _address(name: str, addr: str) -> str:
    """``Name <addr>``, or the bare address when the name cannot be used.

    A non-ASCII name goes as ONE encoded-word, longer than RFC 2047's 75 characters if need
    be (safe_text caps names at 64 characters): CPython's address parser keeps the space
    between two encoded-words of a phrase, so a folded name would read back changed.
    """
    addr = _sendable(addr)
    shown = display_name(name)
    if not shown:
        return addr
    if shown.isascii() and "=?" not in shown:
        return formataddr((shown, addr))
    return f"{_word(shown)} <{addr}>"


_UTF8_WORD = email.charset.Charset("utf-8")


def _word(text: str) -> str:
    """``text`` as ONE RFC 2047 encoded-word, base64 or Q, whichever is shorter: what
    ``Header(text, "utf-8", maxlinelen=10_000).encode(maxlinelen=10_000)`` gives for a text that
    fits one word (tested), without its splitting, which measures every prefix of the text."""
    return _UTF8_WORD.header_encode(text)


def _sendable(addr: str) -> str:
    """``addr`` with its domain in IDNA form; an address only SMTPUTF8 could carry is refused
    (``outbound.addresses``: people import refuses those, so only an older row gets here)."""
    if addr.isascii():
        return addr
    problem = addresses.unsendable(addr)
    if problem:
        raise AddressError(problem)
    return addresses.wire_address(addr)


@lru_cache(maxsize=2048)  # subjects repeat across a fan-out; RFC 2047 splitting is slow in the stdlib
def _encoded(text: str) -> str:
    """A header value as RFC 2047 encoded-words of at most 75 characters, folded between them.

    Plain ASCII goes as it is, unless it looks like an encoded-word itself ("=?…?="), which a
    reader would decode: then it is encoded too, so it reads back as written.
    """
    if text.isascii() and "=?" not in text:
        return text
    return Header(text, "utf-8", maxlinelen=76).encode(maxlinelen=76, linesep="\r\n")


def _list_unsubscribe(env: Envelope) -> list[tuple[str, str]]:
    # RFC 8058 one-click needs an https URI next to List-Unsubscribe-Post; without a web
    # endpoint we offer the mailto form, which our inbox reads as "stop" (a reply works too).
    targets = [f"<mailto:{env.unsubscribe}?subject=unsubscribe>"]
    if env.unsubscribe_url:
        targets.insert(0, f"<{env.unsubscribe_url}>")
    items = [("List-Unsubscribe", ", ".join(targets))]
    if env.unsubscribe_url:
        items.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return items


def _html_with_images(html: str, images: list[Attachment]) -> MIMEBase:
    """The HTML part, inside multipart/related with the images it shows by ``cid:`` (RFC 2387),
    the one shape Outlook, Gmail and Apple Mail all display inline."""
    part = MIMEText(html, "html", UTF8_QP)
    if not images:
        return part
    related = _multipart("related")
    related.attach(part)
    for item in images:
        image = _file_part(item)
        image.add_header("Content-ID", f"<{item.content_id}>")
        image.add_header("Content-Disposition", "inline", filename=item.filename)
        related.attach(image)
    return related


def _attachment(item: Attachment) -> MIMEBase:
    part = _file_part(item)
    part.add_header("Content-Disposition", "attachment", filename=item.filename)
    return part


def _file_part(item: Attachment) -> MIMEBase:
    maintype, _, subtype = item.mime_type.partition("/")
    if maintype == "text":
        return MIMEText(item.data.decode("utf-8"), subtype, UTF8_QP)
    part = MIMEBase(maintype, subtype)  # image/jpeg stays image/jpeg (MIMEApplication would relabel it)
    part.set_payload(item.data)
    encoders.encode_base64(part)
    return part


def _calendar_part(method: str, data: bytes) -> MIMEBase:
    # Outlook needs the inline text/calendar part with method= equal to METHOD: inside.
    # Base64 keeps the CRLF line ends and the folding of the iCalendar text exactly as built.
    part = MIMEText(data.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", method)
    return part
