"""The test rig itself: LMTP replies become the SMTP replies a real server would give."""
from __future__ import annotations

import smtplib
import socket

import pytest

from tests.rig_servers import lmtp_deliver

pytestmark = pytest.mark.rig

MESSAGE = b"From: a@example.test\r\nMessage-ID: <rig@example.test>\r\nSubject: x\r\n\r\nbody\r\n"


def test_lmtp_unknown_user_becomes_550(mail_rig):
    reply = lmtp_deliver(mail_rig.lmtp_port, "a@example.test", ["ghost@example.test"], MESSAGE)
    assert reply.startswith("550 5.1.1")


def test_lmtp_partial_delivery_is_accepted(mail_rig, rig_users):
    reply = lmtp_deliver(mail_rig.lmtp_port, "a@example.test",
                         ["ghost@example.test", rig_users["bob"].address], MESSAGE)
    assert reply.startswith("250")
    with mail_rig.imap_client(rig_users["bob"]) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["HEADER", "Message-ID", "<rig@example.test>"])


def test_lmtp_unreachable_becomes_451(mail_rig):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert lmtp_deliver(closed, "a@example.test", ["bob@example.test"], MESSAGE).startswith("451 4.3.0")


def test_fresh_users_are_distinct_and_can_log_in(mail_rig, rig_users):
    again = mail_rig.fresh_users()
    assert {u.name for u in rig_users.values()}.isdisjoint(u.name for u in again.values())
    with mail_rig.imap_client(again["carol"]) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_smtp_accepts_mail_without_login_like_an_mx(mail_rig, rig_users):
    raw = MESSAGE.replace(b"<rig@example.test>", b"<mx@example.test>")
    with smtplib.SMTP(mail_rig.host, mail_rig.smtp_port, timeout=10) as smtp:
        smtp.sendmail("someone@elsewhere.test", [rig_users["carol"].address], raw)
    with mail_rig.imap_client(rig_users["carol"]) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["HEADER", "Message-ID", "<mx@example.test>"])
