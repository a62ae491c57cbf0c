"""Every triage rule's whole verdict (kind, rule, reason, bounced, hard, delayed), one small
message each: the reason is what `explain` and the lead read, and the bounce fields decide
whether an address stops receiving mail. Written against the survivors of a mutmut run over
mailer/inbound/classify.py (docs/testing.md)."""
from __future__ import annotations

import pytest

from mailer.inbound.classify import Verdict, classify
from mailer.inbound.message import parse_message

OUR_VERP = "cop+b-0123456789abcdef@example.test"


def raw(headers: str, body: str = "Thanks, done for today.", sender: str = "Alice <alice@corp.example.com>",
        to: str = "cop+tok@example.test", subject: str = "Re: Day 3") -> bytes:
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
    return (head + "".join(f"{h}\r\n" for h in headers.split("|") if h) + "\r\n" + body).encode()


def report(blocks: str, report_type: str = "delivery-status", text: str = "Report.") -> bytes:
    """A multipart/report with one text part and a message/delivery-status part of ``blocks``."""
    return (
        "From: MAILER-DAEMON@mx.example.test\r\nTo: cop@example.test\r\nSubject: Delivery Status\r\n"
        f"Content-Type: multipart/report; report-type={report_type}; boundary=b\r\n\r\n"
        f"--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
        f"{blocks}\r\n--b--\r\n").encode()


def verdict_of(data: bytes) -> Verdict:
    return classify(parse_message(data))


def bounce(rule: str, address: str | None, hard: bool, detail: str, delayed: bool = False) -> Verdict:
    strength = "delay notice" if delayed else ("hard bounce" if hard else "soft bounce")
    who = address or "an address we could not read"
    return Verdict("bounce", rule, f"{strength} for {who} ({detail})", address, hard, delayed)


def auto(rule: str, detail: str) -> Verdict:
    return Verdict("auto_reply", rule, f"auto-reply, logged and never acted on: {detail}")


DSN = "bounce: delivery-status report"


@pytest.mark.parametrize("blocks, expected", [
    ("Final-Recipient: rfc822; <Hal@Example.org>\r\nAction: failed\r\nStatus: 5.1.1",
     bounce(DSN, "hal@example.org", True, "delivery report: failed 5.1.1")),
    # RFC 3464: Action failed with no Status is still a permanent failure.
    ("Final-Recipient: rfc822; hal@example.org\r\nAction: failed",
     bounce(DSN, "hal@example.org", True, "delivery report: failed")),
    ("Final-Recipient: rfc822; hal@example.org\r\nAction: delayed\r\nStatus: 4.4.7",
     bounce(DSN, "hal@example.org", False, "delivery report: delayed 4.4.7", delayed=True)),
    # A 4.x.x status with no Action: a soft failure, and the action reads as "failed".
    ("Final-Recipient: rfc822; hal@example.org\r\nStatus: 4.2.2",
     bounce(DSN, "hal@example.org", False, "delivery report: failed 4.2.2")),
    ("Final-Recipient: rfc822; hal@example.org\r\nAction: FAILED\r\nStatus: 5.2.1",
     bounce(DSN, "hal@example.org", True, "delivery report: failed 5.2.1")),
    # Only Original-Recipient names the address.
    ("Original-Recipient: rfc822; <ivy@example.org>\r\nAction: failed\r\nStatus: 5.1.1",
     bounce(DSN, "ivy@example.org", True, "delivery report: failed 5.1.1")),
    # Final-Recipient wins over Original-Recipient.
    ("Original-Recipient: rfc822; old@example.org\r\nFinal-Recipient: rfc822; new@example.org\r\n"
     "Action: failed\r\nStatus: 5.1.1", bounce(DSN, "new@example.org", True, "delivery report: failed 5.1.1")),
    # The first block that failed is the one named, not a delivered one before it.
    ("Final-Recipient: rfc822; ok@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
     "Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
     "Final-Recipient: rfc822; later@example.org\r\nAction: failed\r\nStatus: 5.1.1",
     bounce(DSN, "gone@example.org", True, "delivery report: failed 5.1.1")),
    # A recipient field with no address in it: the address comes from the text part instead.
    ("Final-Recipient: rfc822; unknown\r\nAction: failed\r\nStatus: 5.1.1",
     bounce(DSN, None, True, "delivery report: failed 5.1.1")),
    # Delivered and relayed: the mail arrived, it is no failure at all.
    ("Final-Recipient: rfc822; ok@example.org\r\nAction: delivered\r\nStatus: 2.0.0",
     Verdict("auto_reply", "auto-reply: delivery report without a failure",
             "a delivery report that says the mail arrived (or was relayed)")),
    # A status without its type prefix ("Final-Recipient: jo@…") still names the address.
    ("Final-Recipient: jo@example.org\r\nAction: failed\r\nStatus: 5.0.0",
     bounce(DSN, "jo@example.org", True, "delivery report: failed 5.0.0")),
    # "Status: 5.1.1 (x 4.0.0)": the first status is the one given, whole.
    ("Final-Recipient: rfc822; kim@example.org\r\nAction: failed\r\nStatus: 5.1.10",
     bounce(DSN, "kim@example.org", True, "delivery report: failed 5.1.10")),
])
def test_delivery_reports(blocks, expected):
    assert verdict_of(report(blocks)) == expected


def test_delivery_report_without_a_named_address_reads_the_text_part():
    data = report("Final-Recipient: rfc822; unknown\r\nAction: failed\r\nStatus: 5.1.1",
                  text="Your mail to lee@example.org failed.")
    assert verdict_of(data) == bounce(DSN, "lee@example.org", True, "delivery report: failed 5.1.1")


def test_report_type_alone_makes_a_delivery_report():
    # A multipart/report that says delivery-status but whose status part is missing: still a bounce.
    data = raw("Content-Type: multipart/report; report-type=delivery-status; boundary=b",
               body="--b\r\nContent-Type: text/plain\r\n\r\nmail to mo@example.org failed 5.1.1\r\n--b--\r\n",
               sender="MAILER-DAEMON@mx.example.test")
    assert verdict_of(data) == bounce(DSN, "mo@example.org", True, "delivery report: failed")


def test_a_report_of_another_type_is_an_auto_reply_naming_its_type():
    data = raw("Content-Type: multipart/report; report-type=disposition-notification; boundary=b",
               body="--b\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--b--\r\n", subject="Read: Day 3")
    assert verdict_of(data) == auto("auto-reply: report",
                                    "a machine report (disposition-notification), e.g. a read receipt")


def test_a_report_without_a_type_says_unknown():
    data = raw("Content-Type: multipart/report; boundary=b",
               body="--b\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--b--\r\n", subject="Read: Day 3")
    assert verdict_of(data) == auto("auto-reply: report", "a machine report (unknown), e.g. a read receipt")


# --- our own VERP return address (outbound.envelope.verp_sender) -------------------------------------

VERP_RULE = "bounce: VERP address"


def test_a_hard_bounce_to_our_verp_address():
    data = raw("", body="Delivery to nina@gone.example.org failed: 550 5.1.1 user unknown",
               sender="relay@relay.example.net", to=OUR_VERP, subject="Undelivered")
    assert verdict_of(data) == bounce(VERP_RULE, "nina@gone.example.org", True,
                                      "sent to our bounce address +b-0123456789abcdef@")


def test_a_delay_notice_to_our_verp_address_is_only_late():
    data = raw("", body="Delivery to nina@slow.example.org is delayed, still being retried (4.4.7).",
               sender="relay@relay.example.net", to=OUR_VERP, subject="Delayed Mail")
    assert verdict_of(data) == bounce(VERP_RULE, "nina@slow.example.org", False,
                                      "sent to our bounce address +b-0123456789abcdef@", delayed=True)


def test_a_soft_bounce_to_our_verp_address_is_not_a_delay_without_saying_so():
    data = raw("", body="Mailbox of nina@full.example.org is full: 452 4.2.2", sender="relay@relay.example.net",
               to=OUR_VERP, subject="Undelivered")
    assert verdict_of(data) == bounce(VERP_RULE, "nina@full.example.org", False,
                                      "sent to our bounce address +b-0123456789abcdef@")


def test_our_verp_address_found_among_several_recipients():
    data = raw("Cc: " + OUR_VERP, body="550 5.1.1 nina@gone.example.org", sender="relay@relay.example.net",
               to="someone@elsewhere.example", subject="Undelivered")
    assert verdict_of(data).rule == VERP_RULE


def test_a_plus_address_that_is_not_a_bounce_id_is_a_reply():
    data = raw("", to="cop+b-short@example.test")
    assert verdict_of(data).kind == "reply"


def test_classic_verp_with_a_domain_without_a_dot_falls_back_to_the_text():
    data = raw("", body="550 5.1.1 for ola@real.example.org", sender="relay@relay.example.net",
               to="bounces+ola=localhost@example.test", subject="failure")
    assert verdict_of(data) == bounce(VERP_RULE, "ola@real.example.org", True,
                                      "sent to the bounce address bounces+ola=localhost@")


def test_classic_verp_splits_the_address_at_the_last_equals_sign():
    data = raw("", body="550 5.1.1", sender="relay@relay.example.net",
               to="bounces+pat=x=corp.example.org@example.test", subject="failure")
    assert verdict_of(data).bounced == "pat=x@corp.example.org"


# --- mail systems talking in no standard form --------------------------------------------------------

DAEMON_RULE = "bounce: From MAILER-DAEMON/postmaster"


def test_x_failed_recipients_names_the_address_first():
    data = raw("X-Failed-Recipients: Quinn@Example.org", body="Mailbox full for someone@else.example: 452 4.2.2",
               sender="Mail Delivery System <Mailer-Daemon@mx.example.test>", subject="Mail delivery failed")
    assert verdict_of(data) == bounce(DAEMON_RULE, "quinn@example.org", False,
                                      "sent by mailer-daemon@mx.example.test")


def test_a_daemon_bounce_skips_other_daemons_and_our_own_addresses():
    data = raw("", body="postmaster@mx.example.test says: cop+tok@example.test to 'rae@example.org'. failed 5.1.1.",
               sender="postmaster@mx.example.test", subject="Undeliverable")
    assert verdict_of(data) == bounce(DAEMON_RULE, "rae@example.org", True, "sent by postmaster@mx.example.test")


def test_a_daemon_delay_notice():
    data = raw("", body="Delivery to sam@slow.example.org has not yet been delivered; will retry.",
               sender="MAILER-DAEMON@mx.example.test", subject="Warning: message delayed")
    assert verdict_of(data) == bounce(DAEMON_RULE, "sam@slow.example.org", False,
                                      "sent by mailer-daemon@mx.example.test", delayed=True)


def test_a_hard_failure_is_never_a_delay_notice():
    data = raw("", body="Delivery to sam@gone.example.org failed: 550 5.1.1; we will not retry (delayed).",
               sender="MAILER-DAEMON@mx.example.test", subject="Delayed Mail")
    assert verdict_of(data) == bounce(DAEMON_RULE, "sam@gone.example.org", True,
                                      "sent by mailer-daemon@mx.example.test")


def test_only_the_local_part_makes_a_daemon():
    assert verdict_of(raw("", sender="alice@mailer-daemon.example.org")).kind == "reply"


def test_an_empty_return_path():
    data = raw("Return-Path: <>", body="Could not deliver to tom@gone.example.org: 550 5.1.1",
               sender="relay@relay.example.net", subject="Undelivered")
    assert verdict_of(data) == bounce("bounce: empty Return-Path", "tom@gone.example.org", True,
                                      "sent with an empty Return-Path (<>)")


def test_an_empty_return_path_delay():
    data = raw("Return-Path: <>", body="Mail to tom@slow.example.org is delayed.",
               sender="relay@relay.example.net", subject="Delivery delayed")
    assert verdict_of(data) == bounce("bounce: empty Return-Path", "tom@slow.example.org", False,
                                      "sent with an empty Return-Path (<>)", delayed=True)


def test_a_blank_return_path_is_empty_too():
    data = raw("Return-Path: ", body="x", sender="relay@relay.example.net", subject="Undelivered")
    assert verdict_of(data).rule == "bounce: empty Return-Path"


# --- calendar answers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method, what", [("REPLY", "answers an invitation"), ("reply", "answers an invitation"),
                                          ("COUNTER", "proposes a new time"),
                                          ("counter", "proposes a new time")])
def test_calendar_answers(method, what):
    data = raw(f"Content-Type: text/calendar; method={method}",
               body=f"BEGIN:VCALENDAR\r\nMETHOD:{method}\r\nEND:VCALENDAR\r\n")
    assert verdict_of(data) == Verdict("rsvp", f"rsvp: calendar {method.upper()}",
                                       f"a calendar {method.upper()} part: the attendee {what}")


# --- auto-replies --------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, sender, subject, expected", [
    ("Auto-Submitted: Auto-Replied; owner=x", None, None,
     auto("auto-reply: Auto-Submitted header", "Auto-Submitted: auto-replied")),
    ("Auto-Submitted:", None, None, auto("auto-reply: Auto-Submitted header", "Auto-Submitted: (empty)")),
    ("Precedence: Bulk", None, None, auto("auto-reply: Precedence header", "Precedence: bulk")),
    ("X-Autoreply: yes", None, None, auto("auto-reply: X-Autoreply header", "the message has an x-autoreply header")),
    ("X-Autorespond: on", None, None,
     auto("auto-reply: X-Autoreply header", "the message has an x-autorespond header")),
    ("X-Auto-Response: yes", None, None, auto("auto-reply: auto-* header", "the message has an X-Auto-Response header")),
    ("", "No-Reply@corp.example.com", None, auto("auto-reply: no-reply sender", "sent from no-reply@corp.example.com")),
    ("", None, "Automatische Antwort: Tag 3",
     auto("auto-reply: localised subject", "the subject starts with 'Automatische Antwort'")),
    ("X-MS-Exchange-Inbox-Rules-Loop: alice@corp.example.com", None, None,
     auto("auto-reply: Exchange inbox rule",
          "an Exchange mailbox rule handled it (X-MS-Exchange-Inbox-Rules-Loop)")),
])
def test_auto_reply_verdicts(headers, sender, subject, expected):
    data = raw(headers, sender=sender or "Alice <alice@corp.example.com>", subject=subject or "Re: Day 3")
    assert verdict_of(data) == expected


def test_a_person_is_a_reply():
    assert verdict_of(raw("")) == Verdict("reply", "reply: no machine signs",
                                          "no sign of a bounce, an auto-reply or a calendar answer")


def test_the_null_sender_of_an_auto_reply_is_named_as_an_auto_reply():
    data = raw("Return-Path: <>|X-Autoreply: yes")
    assert verdict_of(data).rule == "auto-reply: X-Autoreply header"
