"""An email over the transport's size limit goes without its attachments, never dead (issue 20).

The end-of-challenge summary with its photos reached 4.84 MB as a Graph sendMail body (Graph
refuses a request over about 4 MB); the 413 made the row dead and the person got nothing.
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import random

import pytest

from mailer import outbox
from mailer.flows.challenge import emails as mail
from mailer.outbound import shrink
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports.graph import GraphTransport
from mailer.transports.graph_http import GraphSettings
from mailer.transports.smtp_imap import SmtpImapTransport
from tests.flows.challenge.test_emails import CHALLENGE, PERSON
from tests.graph_server import GraphServer

MAILBOX = "cop@example.test"


def photos_row(total: int) -> dict:
    """Day 1 of a journal with photos of ``total`` bytes (noise: it does not compress)."""
    rng = random.Random(total)
    files = []
    for n in range(3):
        data = rng.randbytes(total // 3)
        files.append({"filename": f"photo{n}.jpg", "mime_type": "image/jpeg", "kept": True, "size": len(data),
                      "data": data, "sha256": hashlib.sha256(data).hexdigest()})
    return {"day": 1, "date": "2027-01-04", "date_label": "Mon 4 Jan", "title": "Map",
            "text": "Mapped the pipeline.", "shareable": False, "files": files}


def queue_summary(db, settings, now, photo_bytes: int, to: str = PERSON["email"]) -> dict:
    people.add_person(db, to, PERSON["name"], PERSON["timezone"], ("member",))
    plan = mail.summary(CHALLENGE, {**PERSON, "email": to}, [photos_row(photo_bytes)])
    assert len(plan.attachments) == 1 + bool(photo_bytes)  # the journal as .md, and as .html with photos
    assert outbox.enqueue(db, [plan], now, settings) == 1
    return outbox_store.list_rows(db)[0]


def parts(raw: bytes) -> tuple[list[str], str, str]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    names = [p.get_filename() for p in msg.iter_attachments()]
    return names, msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def graph(server: GraphServer) -> GraphTransport:
    return GraphTransport(GraphSettings(mailbox=MAILBOX, endpoint=server.endpoint, auth="none"))


def test_the_summary_with_photos_goes_over_graph_without_them(db, settings, now):
    row = queue_summary(db, settings, now, 2_600_000)
    assert len(outbox_store.get_row(db, row["id"])["data"]) * 4 // 3 > 4 * 1024 * 1024  # the 4.84 MB body
    with GraphServer(MAILBOX) as server:
        result = outbox.flush(db, graph(server), now, settings, "w1")
        assert (result.sent, result.dead) == (1, 0)
        [raw] = server.sent()
    assert len(raw) <= GraphTransport.max_message_bytes
    names, text, html = parts(raw)
    assert names == []
    assert "too large to send with its attachments" in text and "devops-30-day-challenge-journal.html" in text
    assert "too large to send with its attachments" in html and "Mapped the pipeline." in text
    assert email.message_from_bytes(raw)["Message-ID"] == row["message_id"]  # the same email, smaller
    assert outbox_store.get_row(db, row["id"])["data"] == raw  # a resend sends these bytes


def test_a_413_is_answered_with_a_smaller_email_not_a_dead_row(db, settings, now):
    row = queue_summary(db, settings, now, 600_000)  # under our limit, over this server's
    with GraphServer(MAILBOX) as server:
        server.box.max_request = 500_000
        result = outbox.flush(db, graph(server), now, settings, "w1")
        assert (result.sent, result.dead) == (1, 0)
        assert parts(server.sent()[0])[0] == []
    assert outbox_store.get_row(db, row["id"])["state"] == "sent"


def test_an_email_with_nothing_to_leave_off_is_set_aside_with_the_reason(db, settings, now):
    queue_summary(db, settings, now, 0)
    with GraphServer(MAILBOX) as server:
        server.box.max_request = 2_000  # not even the text fits
        result = outbox.flush(db, graph(server), now, settings, "w1")
    assert result.dead == 1 and "even without attachments" in result.errors[0]


def test_leaving_off_keeps_a_calendar_invitation():
    from mailer.flows.base import Attachment
    from mailer.outbound.envelope import Envelope, build
    from datetime import datetime, timezone

    env = Envelope(message_id="<x@example.test>", from_name="C", from_addr=MAILBOX, to_name="Sam",
                   to_addr=PERSON["email"], subject="Meetup", date=datetime(2027, 1, 4, tzinfo=timezone.utc))
    raw = build(env, "Come along.", "<html><body><p>Come along.</p></body></html>",
                (Attachment("agenda.pdf", "application/pdf", b"%PDF" * 1000),), ("REQUEST", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"))
    smaller = shrink.without_attachments(raw, 1000)
    names, text, html = parts(smaller)
    assert names == ["invite.ics"] and "agenda.pdf" in text and "Come along." in text
    assert shrink.without_attachments(smaller, 1000) is None  # nothing more to leave off


@pytest.mark.rig
def test_smtp_takes_its_limit_from_the_servers_size_and_stays_under_it(mail_rig, rig_users, db, settings, now):
    transport = SmtpImapTransport(mail_rig.smtp_settings(rig_users["mailer"]))
    try:
        assert transport.max_message_bytes == mail_rig.data_size_limit  # EHLO's SIZE
        queue_summary(db, settings, now, mail_rig.data_size_limit, to=rig_users["alice"].address)
        result = outbox.flush(db, transport, now, settings, "w1")
    finally:
        transport.close()
    assert (result.sent, result.dead) == (1, 0), result.errors
