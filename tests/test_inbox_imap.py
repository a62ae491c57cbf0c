"""Replies read over real IMAP are stored once: across two polls and across a restart mid-poll."""
from __future__ import annotations

import smtplib
from email.utils import make_msgid

import pytest

from mailer import inbox
from mailer.config import load_settings
from mailer.store import inbox as inbox_store
from mailer.store import open_db
from mailer.transports import make_transport
from tests.conftest import NOW, write_rig_home


def send_to(rig, sender, recipient: str, text: str) -> str:
    message_id = make_msgid(domain="example.test")
    raw = (f"From: {sender.address}\r\nTo: {recipient}\r\nSubject: hello\r\n"
           f"Message-ID: {message_id}\r\n\r\n{text}\r\n").encode()
    with smtplib.SMTP(rig.host, rig.smtp_port) as smtp:
        smtp.sendmail(sender.address, [recipient], raw)
    return message_id


@pytest.fixture
def rig_app(mail_rig, rig_users, tmp_path):
    home = write_rig_home(tmp_path / "home", mail_rig, rig_users["mailer"])
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    transport = make_transport(settings)
    yield settings, db, transport
    transport.close()
    db.close()


@pytest.mark.rig
def test_polling_twice_stores_a_reply_once(mail_rig, rig_users, rig_app):
    settings, db, transport = rig_app
    send_to(mail_rig, rig_users["alice"], rig_users["mailer"].address.replace("@", "+abc@"), "one")
    for _ in range(2):
        result = inbox.InboxResult()
        inbox.ingest(db, transport, NOW, result)
    assert len(inbox_store.list_messages(db)) == 1
    with mail_rig.imap_client(rig_users["mailer"]) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder(settings.imap_processed_folder)[b"EXISTS"] == 1


@pytest.mark.rig
def test_a_restart_between_storing_and_filing_away_stores_nothing_twice(mail_rig, rig_users, rig_app):
    settings, db, transport = rig_app
    send_to(mail_rig, rig_users["alice"], rig_users["mailer"].address, "two")
    fetched = list(transport.fetch())
    assert len(fetched) == 1
    # The first worker stored the message, then died before moving it to Processed.
    inbox_store.store_raw(db, "mid:crash", fetched[0].transport_id, fetched[0].raw, "", "", NOW)
    transport.close()
    restarted = make_transport(settings)
    try:
        result = inbox.InboxResult()
        inbox.ingest(db, restarted, NOW, result)
    finally:
        restarted.close()
    assert result.fetched == 0
    assert len(inbox_store.list_messages(db)) == 1


@pytest.mark.rig
def test_the_same_message_id_under_a_new_uid_is_stored_once(mail_rig, rig_users, rig_app):
    settings, db, transport = rig_app
    message_id = send_to(mail_rig, rig_users["alice"], rig_users["mailer"].address, "three")
    inbox.ingest(db, transport, NOW, inbox.InboxResult())
    with mail_rig.imap_client(rig_users["mailer"]) as client:  # someone drags it back to INBOX
        client.select_folder(settings.imap_processed_folder)
        client.copy(client.search("ALL"), "INBOX")
    result = inbox.InboxResult()
    inbox.ingest(db, transport, NOW, result)
    assert (result.fetched, result.duplicates) == (0, 1)
    assert [m["subject"] for m in inbox_store.list_messages(db)] == ["hello"]
    assert message_id
