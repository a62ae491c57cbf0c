"""Safe MIME parsing: real client layouts, hostile headers, calendar parts and delivery reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from mailer.inbound.message import parse_message

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str):
    return parse_message((SAMPLES / name).read_bytes())


@pytest.mark.parametrize("name, method", [
    ("exchange_accept.eml", "REPLY"),          # inline text/calendar, base64
    ("google_accept.eml", "REPLY"),            # inline text/calendar plus an application/ics copy
    ("apple_decline.eml", "REPLY"),            # text/calendar sent as an attachment, quoted-printable
    ("thunderbird_counter.eml", "COUNTER"),    # only an application/ics attachment, no MIME method
])
def test_calendar_part_and_method_are_found(name, method):
    msg = sample(name)
    assert msg.calendar is not None and "BEGIN:VEVENT" in msg.calendar
    assert msg.calendar_method == method


def test_counter_method_is_read_from_inside_when_the_mime_parameter_is_missing():
    msg = sample("thunderbird_counter.eml")
    assert "method=" not in (msg.header("content-type") or "")
    assert msg.calendar_method == "COUNTER"


def test_a_bounced_invite_inside_a_dsn_is_not_the_message_calendar():
    msg = sample("postfix_dsn.eml")
    assert msg.calendar is None and msg.calendar_method is None
    assert "Final-Recipient: rfc822; Erin@gone.example.org" in msg.delivery_status
    assert msg.text.startswith("This is the mail system")


def test_delivery_status_blocks_are_kept_together_not_read_as_text():
    raw = (b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
           b"Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n")
    msg = parse_message(raw)
    assert msg.text is None
    assert "Reporting-MTA" in msg.delivery_status and "Status: 5.1.1" in msg.delivery_status
    assert msg.content_param("report-type") == "delivery-status"


def test_header_helpers():
    msg = sample("outlook_reply.eml")
    assert msg.has_header("X-MS-Has-Attach") and msg.header("x-ms-has-attach") == ""
    assert not msg.has_header("Auto-Submitted")
    assert msg.headers_named("x-auto-response-suppress") == ["All"]
    assert msg.from_addr == "bob.brown@corp.example.com"
    assert msg.recipients == ["cop+abcdefghijklmnopqrst@example.test"]


def test_non_ascii_content_disposition_does_not_break_parsing():
    # compat32 returns an email.header.Header for raw 8-bit header values, not a str.
    raw = (b"From: a@example.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
           b"--b\r\nContent-Disposition: attachment; filename=\"r\xc3\xa9union.ics\"\r\n"
           b"Content-Type: application/ics\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n--b--\r\n")
    msg = parse_message(raw)
    assert msg.text.strip() == "hello"
    assert msg.calendar_method == "REPLY"


@pytest.mark.parametrize("raw", [
    b"", b"\x00\x01\x02", b"To: <\r\n\r\n", b"Content-Type: multipart/mixed\r\n\r\nno boundary",
    b"Content-Type: text/plain; charset=\"x-unknown\"\r\n\r\n\xff\xfe",
    b"Content-Type: text/plain; charset=\"\xff\"\r\n\r\nbody",
    b"Content-Type: text/calendar; method*=utf-8''REPLY\r\n\r\nBEGIN:VCALENDAR",
    b"Subject: " + b"=?utf-8?q?x?= " * 2000 + b"\r\n\r\nbody",
])
def test_hostile_input_gives_a_record_not_an_exception(raw):
    msg = parse_message(raw)
    assert isinstance(msg.subject, str) and isinstance(msg.defects, list)


def test_rfc2231_method_parameter_is_collapsed():
    msg = parse_message(b"Content-Type: text/calendar; method*=utf-8''REPLY\r\n\r\nBEGIN:VCALENDAR\r\n")
    assert msg.calendar_method == "REPLY"


def test_deeply_nested_message_is_recorded_as_a_defect():
    raw = b"".join(b"Content-Type: message/rfc822\r\n\r\n" for _ in range(300)) + b"From: x@y\r\n\r\nhi"
    msg = parse_message(raw)
    assert "mime tree nested too deeply" in msg.defects
