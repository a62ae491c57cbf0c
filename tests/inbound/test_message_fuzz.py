"""Malformed MIME never makes parse_message, classify or read_rsvp raise."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.inbound.calendar_reply import read_rsvp
from mailer.inbound.classify import KINDS, classify
from mailer.inbound.commands import CONTEXTS, interpret
from mailer.inbound.message import parse_message

HEADER_NAMES = st.sampled_from([
    "From", "To", "Subject", "Content-Type", "Content-Disposition", "Content-Transfer-Encoding",
    "Return-Path", "Auto-Submitted", "Precedence", "X-Failed-Recipients", "Message-ID", "References",
    "X-Auto-Response-Suppress", "MIME-Version",
])
VALUES = st.one_of(
    st.sampled_from([
        "multipart/mixed; boundary=b", "multipart/report; report-type=delivery-status; boundary=b",
        "text/calendar; method=REPLY", "application/ics", "message/rfc822", "message/delivery-status",
        "text/plain; charset=x-unknown", "attachment; filename*=utf-8''%ff%fe", "<>", "<", "=?utf-8?b?////?=",
        "base64", "quoted-printable", "auto-replied", "no",
    ]),
    st.text(max_size=40).map(lambda s: s.replace("\r", "").replace("\n", " ")),
)
BODY_LINES = st.one_of(
    st.sampled_from([
        "--b", "--b--", "Content-Type: text/calendar; method=REPLY", "Content-Type: message/delivery-status",
        "BEGIN:VCALENDAR", "METHOD:COUNTER", "BEGIN:VEVENT", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:x@y",
        "END:VEVENT", "Final-Recipient: rfc822; a@b.example", "Action: failed", "Status: 5.1.1", "",
        "Content-Transfer-Encoding: base64", "=?=", "\x00",
    ]),
    st.text(max_size=60).map(lambda s: s.replace("\r", "")),
)


@st.composite
def messages(draw) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, VALUES), max_size=8))
    body = draw(st.lists(BODY_LINES, max_size=30))
    text = "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n" + "\r\n".join(body)
    data = text.encode("utf-8", "surrogatepass")
    noise = draw(st.binary(max_size=20))
    return data + noise if draw(st.booleans()) else data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_parse_and_classify_never_raise(raw):
    msg = parse_message(raw)
    verdict = classify(msg)
    assert verdict.kind in KINDS and verdict.rule
    if msg.calendar is not None:
        read_rsvp(msg.calendar, msg.from_addr)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(raw):
    assert classify(parse_message(raw)).kind in KINDS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(sorted(CONTEXTS)))
def test_interpret_stays_in_its_vocabulary(text, context):
    assert interpret(context, text).intent in CONTEXTS[context]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_read_rsvp_never_raises(text):
    read_rsvp("BEGIN:VCALENDAR\nBEGIN:VEVENT\n" + text)
    read_rsvp(text)
