"""Only our own bounces count: a bounce must name an email we sent (VERP, returned Message-ID,
reply token); forged reports, postmaster prose and delay notices change nothing."""
from __future__ import annotations

from email.utils import make_msgid
from pathlib import Path

import pytest

from mailer import inbox, outbox
from mailer.flows.base import PlannedEmail
from mailer.outbound.envelope import verp_sender
from mailer.store import inbox as inbox_store
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox

SAMPLES = Path(__file__).resolve().parent / "inbound" / "samples"
ALICE = "alice@corp.example.com"


def send_to(db, settings, now, address: str, name: str = "Someone") -> dict:
    """Make ``address`` a person and enqueue one email to them; return its outbox row."""
    people.add_person(db, address, name, "Europe/London")
    plan = PlannedEmail(key=f"test:to:{address}", to=address, subject="Day 3 of 30: write one test",
                        template="system/unrouted", context={"their_subject": ""},
                        reply_purpose="journal", reply_ref="challenge:9:day:3")
    assert outbox.enqueue(db, [plan], now, settings) == 1
    return outbox_store.latest_to(db, address)


def report(recipient: str, action: str = "failed", status: str = "5.1.1", to: str = "cop@example.test",
           returned: str = "") -> bytes:
    """A delivery report (RFC 3464) as Postfix writes one; ``returned`` is the returned header block."""
    tail = (f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n" if returned else "")
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\nTo: {to}\r\nReturn-Path: <>\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: {make_msgid()}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n\r\n{tail}--b--\r\n"
    ).encode()


def run(db, settings, now, *raws: bytes) -> list[dict]:
    for raw in raws:
        deliver_to_inbox(settings.mail_dir, raw)
    result = inbox.InboxResult()
    inbox.ingest(db, MaildirTransport(settings.mail_dir), now, result)
    inbox.process(db, now, settings, result)
    return inbox_store.list_messages(db)


def standing(db, address: str) -> tuple[int, str]:
    person = people.find_person(db, address)
    return person["bounce_count"], person["status"]


def test_a_forged_report_naming_a_member_changes_nothing(db, settings, now):
    send_to(db, settings, now, ALICE)
    rows = run(db, settings, now, report(ALICE),
               report(ALICE, returned=f"Message-ID: {make_msgid()}\r\nTo: {ALICE}"))
    assert standing(db, ALICE) == (0, "active")
    assert {(r["state"], r["kind"]) for r in rows} == {("ignored", "bounce")}
    assert all("tied to nothing we sent" in r["reason"] for r in rows)


def test_postmaster_prose_with_550_5_1_1_changes_nothing(db, settings, now):
    send_to(db, settings, now, ALICE)
    raw = (f"From: postmaster@anything.example\r\nTo: cop@example.test\r\nSubject: delivery failure\r\n"
           f"Message-ID: {make_msgid()}\r\n\r\n550 5.1.1 <{ALICE}>: Recipient address rejected\r\n").encode()
    [row] = run(db, settings, now, raw)
    assert (row["state"], row["kind"]) == ("ignored", "bounce")
    assert standing(db, ALICE) == (0, "active")


def test_delay_notices_are_never_failures_even_for_our_own_email(db, settings, now):
    sent = send_to(db, settings, now, ALICE)
    verp = verp_sender(settings.mailer_address, sent["message_id"])
    delays = [report(ALICE, "delayed", "4.4.7", to=verp, returned=f"Message-ID: {sent['message_id']}")
              for _ in range(3)]
    rows = run(db, settings, now, *delays)
    assert standing(db, ALICE) == (0, "active")
    assert all("delay" in r["reason"] for r in rows)


def test_a_real_postfix_report_for_our_own_email_counts(db, settings, now):
    sent = send_to(db, settings, now, "erin@gone.example.org", "Erin")
    raw = (SAMPLES / "postfix_dsn.eml").read_bytes().replace(b"<1a2b3c4d5e6f@example.test>",
                                                            sent["message_id"].encode())
    [row] = run(db, settings, now, raw)
    assert (row["state"], row["kind"]) == ("done", "bounce") and "returned Message-ID" in row["rule"]
    assert standing(db, "erin@gone.example.org")[1] == "bounced"


def test_the_same_report_delivered_to_our_verp_address_counts(db, settings, now):
    sent = send_to(db, settings, now, "erin@gone.example.org", "Erin")
    verp = verp_sender(settings.mailer_address, sent["message_id"]).encode()
    raw = (SAMPLES / "postfix_dsn.eml").read_bytes().replace(b"To: cop@example.test", b"To: " + verp)
    [row] = run(db, settings, now, raw)
    assert "VERP" in row["rule"] and standing(db, "erin@gone.example.org")[1] == "bounced"


def test_an_exim_copy_of_our_email_counts_as_a_soft_bounce(db, settings, now):
    sent = send_to(db, settings, now, "grace@full.example.net", "Grace")
    raw = (SAMPLES / "exim_mailbox_full.eml").read_bytes().replace(
        b"To: grace@full.example.net\n", f"To: grace@full.example.net\nMessage-ID: {sent['message_id']}\n".encode(), 1)
    run(db, settings, now, raw)
    assert standing(db, "grace@full.example.net") == (1, "active")


def test_a_reply_token_in_the_returned_headers_ties_it(db, settings, now):
    sent = send_to(db, settings, now, ALICE)
    reply_to = next(line for line in sent["data"].decode().split("\r\n") if line.startswith("Reply-To:"))
    [row] = run(db, settings, now, report(ALICE, returned=f"{reply_to}\r\nSubject: Day 3"))
    assert "reply token" in row["rule"] and standing(db, ALICE)[1] == "bounced"


def test_the_address_that_counts_is_the_one_we_sent_to(db, settings, now):
    sent = send_to(db, settings, now, ALICE)
    people.add_person(db, "bob@corp.example.com", "Bob", "UTC")
    run(db, settings, now, report("bob@corp.example.com", returned=f"Message-ID: {sent['message_id']}"))
    assert standing(db, "bob@corp.example.com") == (0, "active")
    assert standing(db, ALICE)[1] == "bounced"


def test_every_email_leaves_with_its_own_verp_return_path(db, settings, now):
    sent = send_to(db, settings, now, ALICE)
    outbox.flush(db, MaildirTransport(settings.mail_dir), now, settings, "test")
    [path] = [p for p in (settings.mail_dir / "outbox" / "new").iterdir()]
    first = path.read_bytes().split(b"\r\n", 1)[0].decode()
    local = sent["message_id"].strip("<>").partition("@")[0]
    assert first == f"Return-Path: <cop+b-{local}@example.test>"


@pytest.mark.parametrize("message_id", ["<not-ours@elsewhere.test>", "<ABC@example.test>"])
def test_a_message_id_we_did_not_make_keeps_the_plain_sender(message_id):
    assert verp_sender("cop@example.test", message_id) == "cop@example.test"
