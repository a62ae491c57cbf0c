"""An email too big for the transport, sent again without its attachments and with a note.

Every transport has a largest message it takes (``Transport.max_message_bytes``): Graph's
request limit is about 4 MB with the MIME base64-encoded in it, Exchange Server's default
send limit is 10 MB, an SMTP server says its own in the ``SIZE`` extension (RFC 1870). An
email over it (the end-of-challenge summary with its photos) would be refused for good, and
the person would get nothing; instead the attachments are left off and the body says which
ones, and that the community lead can send them. The headers (Message-ID, reply token) stay.
"""
from __future__ import annotations

import email
import html
from email.message import Message
from email.mime.text import MIMEText

from mailer.outbound.envelope import UTF8_QP, WIRE

KEPT = ("text/calendar", "application/ics")  # an invitation is small, and it is the point of the email


def without_attachments(data: bytes, limit: int | None) -> bytes | None:
    """``data`` with its attachments left off and a note at the top of the text and HTML parts
    saying so; None when it has no attachment to leave off."""
    root = email.message_from_bytes(data, policy=WIRE)
    if not root.is_multipart() or root.get_content_subtype() != "mixed":
        return None
    parts = root.get_payload()
    left = [p for p in parts if _is_attachment(p)]
    if not left:
        return None
    note = _note([(p.get_filename() or "file", len(p.as_bytes(policy=WIRE))) for p in left], len(data), limit)
    kept = [_with_note(p, note) for p in parts if not _is_attachment(p)]
    root.set_payload(kept)
    return root.as_bytes(policy=WIRE)


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" and part.get_content_type() not in KEPT


def _note(files: list[tuple[str, int]], size: int, limit: int | None) -> str:
    names = ", ".join(f"{name} ({_mb(n)})" for name, n in files)
    what = f"{_mb(size)}; our mail service takes at most {_mb(limit)}" if limit else _mb(size)
    return (f"This email was too large to send with its attachments ({what}), so they were left "
            f"off: {names}. Reply to ask your community lead for them.")


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MB"


def _with_note(part: Message, note: str) -> Message:
    """The part with ``note`` at the top of each text and HTML body in it (an alternative's parts)."""
    if part.is_multipart():
        part.set_payload([_with_note(p, note) for p in part.get_payload()])
        return part
    kind = part.get_content_type()
    if kind not in ("text/plain", "text/html"):
        return part
    text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8", "replace")
    if kind == "text/plain":
        text = f"{note}\n\n{text}"
    else:
        text = _into_html(text, f'<p style="border:1px solid #c60;padding:8px">{html.escape(note)}</p>')
    return MIMEText(text, part.get_content_subtype(), UTF8_QP)


def _into_html(page: str, block: str) -> str:
    at = page.lower().find("<body")
    end = page.find(">", at) + 1 if at >= 0 else 0
    return page[:end] + block + page[end:]
