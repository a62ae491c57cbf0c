"""Raw messages the charter tests feed to the real inbox, and the check that ``explain`` agrees."""
from __future__ import annotations

from email.utils import format_datetime

from mailer.inbound.explain import explain
from mailer.inbound.message import parse_message
from mailer.store import charters


def dsn(original: bytes, failed: str, now) -> bytes:
    """A Postfix-style delivery report (soft: 4.2.2 mailbox full) carrying the original's headers."""
    head = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return (f"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.corp.example.com (Mail Delivery System)\r\n"
            f"To: cop@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {format_datetime(now)}\r\nMessage-Id: <dsn-{failed}@mx.corp.example.com>\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
            f"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered yet.\r\n"
            f"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.corp.example.com\r\n\r\n"
            f"Final-Recipient: rfc822; {failed}\r\nAction: delayed\r\nStatus: 4.2.2\r\n\r\n"
            f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{head}\r\n--b1--\r\n").encode()


def assert_explain_agrees(db, raw: bytes) -> None:
    """``explain --context approval`` reads ``raw`` as the flow acted on it.

    An approve / reject / request_changes reading has a decision kept with the message's
    Message-ID (counted, or held for confirmation); anything else has none.
    """
    reading = explain(raw, "approval")
    message_id = parse_message(raw).message_id
    kept = [d for c in charters.list_charters(db) for d in charters.decisions(db, c["id"])
            if d["message_id"] == message_id]
    if reading["intent"] in ("approve", "reject", "request_changes"):
        assert [d["decision"] for d in kept] == [reading["intent"]], (reading, kept)
    else:
        assert kept == [], (reading, kept)
