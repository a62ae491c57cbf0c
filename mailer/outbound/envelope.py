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
import email.charset
import email.policy
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from mailer.flows.base import Attachment

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
    """The complete message as CRLF bytes: multipart/alternative text+HTML, plus attachments."""
    if not attachments and not calendar:
        return _alternative(env, text, html)
    body = _multipart("alternative")
    body.attach(MIMEText(text, "plain", UTF8_QP))
    body.attach(MIMEText(html, "html", UTF8_QP))
    if calendar:
        body.attach(_calendar_part(*calendar))
    root = _multipart("mixed")
    root.attach(body)
    for item in attachments:
        root.attach(_attachment(item))
    _headers(root, env)
    return root.as_bytes(policy=WIRE)


def _alternative(env: Envelope, text: str, html: str) -> bytes:
    """Text + HTML, written directly: the same headers and the same decoded parts as the
    ``email.mime`` classes give (tested), without building and walking a part tree per message,
    which was most of composing's cost. ``binascii.b2a_qp`` also escapes a lone "." line."""
    boundary = f"=_{secrets.token_hex(12)}"
    head = Message(policy=WIRE)
    head["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    head["MIME-Version"] = "1.0"
    _headers(head, env)
    wire = "".join(WIRE.fold(name, value) for name, value in head.raw_items()).encode("ascii")
    sep = f"\r\n--{boundary}\r\n".encode("ascii")
    return b"".join((wire, b"\r\n", sep[2:], _QP_HEAD % b"plain", _qp(text), sep,
                     _QP_HEAD % b"html", _qp(html), f"\r\n--{boundary}--\r\n".encode("ascii")))


_QP_HEAD = (b'Content-Type: text/%s; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")


def _qp(text: str) -> bytes:
    """A body as quoted-printable with CRLF line ends (lines of at most 76 characters)."""
    lines = text.splitlines()
    encoded = binascii.b2a_qp("\n".join(lines).encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n") + (b"\r\n" if text.endswith(("\n", "\r")) else b"")


def _multipart(subtype: str) -> MIMEMultipart:
    # A boundary of our own: left unset, the standard library compiles a regex per message to
    # check a random one against the text. "=_" cannot occur in quoted-printable or base64.
    part = MIMEMultipart(subtype)
    part.set_boundary(f"=_{secrets.token_hex(12)}")
    return part


def _headers(msg: MIMEBase, env: Envelope) -> None:
    msg["Message-ID"] = env.message_id
    msg["Date"] = format_datetime(env.date)
    msg["From"] = formataddr((env.from_name, env.from_addr))
    msg["To"] = formataddr((env.to_name, env.to_addr)) if env.to_name else env.to_addr
    msg["Subject"] = _encoded(env.subject)
    if env.reply_to:
        msg["Reply-To"] = env.reply_to
    if env.in_reply_to:
        msg["In-Reply-To"] = env.in_reply_to
        msg["References"] = env.in_reply_to
    # RFC 3834: scheduled mail is auto-generated; answers to a person are auto-replied.
    msg["Auto-Submitted"] = "auto-replied" if env.auto_reply else "auto-generated"
    # Asks Exchange/Outlook not to send out-of-office notices back to us (MS-OXCMAIL).
    msg["X-Auto-Response-Suppress"] = "All"
    if env.recurring and env.unsubscribe:
        _list_unsubscribe(msg, env)
    for name, value in env.extra_headers:
        msg[name] = value


def _encoded(text: str) -> str:
    """A header value as RFC 2047 encoded-words of at most 75 characters, folded between them."""
    if text.isascii():
        return text
    return Header(text, "utf-8", maxlinelen=76).encode(maxlinelen=76, linesep="\r\n")


def _list_unsubscribe(msg: MIMEBase, env: Envelope) -> None:
    # RFC 8058 one-click needs an https URI next to List-Unsubscribe-Post; without a web
    # endpoint we offer the mailto form, which our inbox reads as "stop" (a reply works too).
    targets = [f"<mailto:{env.unsubscribe}?subject=unsubscribe>"]
    if env.unsubscribe_url:
        targets.insert(0, f"<{env.unsubscribe_url}>")
    msg["List-Unsubscribe"] = ", ".join(targets)
    if env.unsubscribe_url:
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def _attachment(item: Attachment) -> MIMEBase:
    maintype, _, subtype = item.mime_type.partition("/")
    if maintype == "text":
        part: MIMEBase = MIMEText(item.data.decode("utf-8"), subtype, UTF8_QP)
    else:
        part = MIMEApplication(item.data, subtype)
    part.add_header("Content-Disposition", "attachment", filename=item.filename)
    return part


def _calendar_part(method: str, data: bytes) -> MIMEBase:
    # Outlook needs the inline text/calendar part with method= equal to METHOD: inside.
    part = MIMEText(data.decode("utf-8"), "calendar", UTF8_QP)
    part.set_param("method", method)
    return part
