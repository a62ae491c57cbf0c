"""``inbox.receive``: a batch at a time, each message parsed once, filed away only once handled."""
from __future__ import annotations

from email.utils import make_msgid

import pytest

from mailer import inbox, outbox
from mailer.errors import TransportError
from mailer.flows.base import PlannedEmail
from mailer.inbound import message as message_module
from mailer.simulation.replies import compose_reply
from mailer.store import inbox as inbox_store
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox


@pytest.fixture
def asked(db, settings, now):
    """An email to Alice whose reply her flow cannot place (challenge 999 does not exist)."""
    people.add_person(db, "alice@corp.example.com", "Alice Adams", "Europe/London")
    people.add_person(db, "bob@corp.example.com", "Bob Brown", "America/New_York")
    plan = PlannedEmail(key="test:ask:alice", to="alice@corp.example.com", subject="How was day 1?",
                        template="system/unrouted", context={"their_subject": "x"},
                        reply_purpose="journal", reply_ref="challenge:999:day:1")
    assert outbox.enqueue(db, [plan], now, settings) == 1
    return outbox_store.latest_to(db, "alice@corp.example.com")["data"]


def unrouted(sender: str, text: str) -> bytes:
    return (f"From: <{sender}>\r\nTo: cop@example.test\r\nSubject: {text}\r\n"
            f"Message-ID: {make_msgid()}\r\n\r\n{text}\r\n").encode()


def deliver_mix(settings, asked: bytes, now) -> None:
    """One message that raises when handled, between two that are only refused."""
    deliver_to_inbox(settings.mail_dir, unrouted("alice@corp.example.com", "first"))
    deliver_to_inbox(settings.mail_dir, compose_reply(asked, "alice@corp.example.com", "Alice", "Done!", "gmail", now))
    deliver_to_inbox(settings.mail_dir, compose_reply(asked, "bob@corp.example.com", "Bob", "Me too", "gmail", now))


def states(db) -> list[str]:
    return [r["state"] for r in reversed(inbox_store.list_messages(db))]


def test_a_failing_message_is_quarantined_and_the_rest_of_its_batch_kept(db, settings, asked, now):
    deliver_mix(settings, asked, now)
    result = inbox.InboxResult()
    inbox.receive(db, MaildirTransport(settings.mail_dir), now, settings, result)
    assert states(db) == ["ignored", "quarantined", "ignored"]
    assert (result.fetched, result.ignored, result.quarantined, result.answers) == (3, 2, 1, 1)
    assert [r["key"] for r in outbox_store.list_rows(db)][0].startswith("system:unrouted:alice")


def test_each_message_is_parsed_once(db, settings, asked, now, monkeypatch):
    deliver_mix(settings, asked, now)
    calls = []
    real = message_module.parse_message
    monkeypatch.setattr(inbox, "parse_message", lambda raw: calls.append(len(raw)) or real(raw))
    inbox.receive(db, MaildirTransport(settings.mail_dir), now, settings, inbox.InboxResult())
    assert len(calls) == 3


class Recording(MaildirTransport):
    """Notes the stored state of each message at the moment it is filed away."""

    def __init__(self, root, db) -> None:
        super().__init__(root)
        self.db, self.filed = db, []

    def done(self, fetched) -> None:
        row = self.db.execute("SELECT state FROM inbox WHERE transport_id = ?", [fetched.transport_id]).fetchone()
        self.filed.append(row[0])
        super().done(fetched)


def test_a_message_is_filed_away_only_once_its_effect_is_committed(db, settings, asked, now):
    deliver_mix(settings, asked, now)
    transport = Recording(settings.mail_dir, db)
    inbox.receive(db, transport, now, settings, inbox.InboxResult())
    assert transport.filed == ["ignored", "quarantined", "ignored"]


class FailingDone(MaildirTransport):
    """The server goes away after the batch was handled, before it is filed away."""

    def done(self, fetched) -> None:
        raise TransportError("connection lost")


def test_handled_but_not_filed_away_is_filed_at_the_next_pass_not_handled_again(db, settings, asked, now):
    deliver_mix(settings, asked, now)
    first = inbox.InboxResult()
    with pytest.raises(TransportError):
        inbox.receive(db, FailingDone(settings.mail_dir), now, settings, first)
    assert states(db) == ["ignored", "quarantined", "ignored"]
    outbox_before = outbox_store.counts(db)
    second = inbox.InboxResult()
    inbox.receive(db, MaildirTransport(settings.mail_dir), now, settings, second)
    assert (second.fetched, second.done, second.ignored, second.quarantined) == (0, 0, 0, 0)
    assert outbox_store.counts(db) == outbox_before
    assert not list((settings.mail_dir / "inbox" / "new").iterdir())


def test_a_batch_whose_transaction_is_lost_is_handled_one_by_one(db, settings, asked, now, monkeypatch):
    deliver_mix(settings, asked, now)
    real = inbox._reply

    def ending_the_transaction(db_, msg, *args):
        if msg.from_addr == "bob@corp.example.com":
            db_.conn.execute("ROLLBACK")  # as a database error that ends the transaction would
            raise RuntimeError("transaction lost")
        return real(db_, msg, *args)

    monkeypatch.setattr(inbox, "_reply", ending_the_transaction)
    result = inbox.InboxResult()
    inbox.receive(db, MaildirTransport(settings.mail_dir), now, settings, result)
    assert states(db) == ["ignored", "quarantined", "quarantined"]
    assert (result.fetched, result.ignored, result.quarantined, result.answers) == (3, 1, 2, 1)


def test_what_an_interrupted_pass_left_is_handled_before_new_mail(db, settings, asked, now, monkeypatch):
    transport = MaildirTransport(settings.mail_dir)
    deliver_to_inbox(settings.mail_dir, unrouted("alice@corp.example.com", "left over"))
    inbox.ingest(db, transport, now, inbox.InboxResult())  # stored, then the worker died
    deliver_to_inbox(settings.mail_dir, unrouted("bob@corp.example.com", "new"))
    handled = []
    real = inbox.handle
    monkeypatch.setattr(inbox, "handle", lambda db_, row, *a: handled.append(b"left over" in row["raw"]) or real(db_, row, *a))
    inbox.receive(db, transport, now, settings, inbox.InboxResult())
    assert handled == [True, False] and states(db) == ["ignored", "ignored"]


def test_a_database_error_keeps_nothing_of_the_batch_and_files_nothing_away(db, settings, asked, now,
                                                                             monkeypatch):
    import sqlite3

    deliver_mix(settings, asked, now)

    def failing(*args):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(inbox, "_reply", failing)
    with pytest.raises(sqlite3.OperationalError):
        inbox.receive(db, MaildirTransport(settings.mail_dir), now, settings, inbox.InboxResult())
    assert inbox_store.list_messages(db) == []
    assert len(list((settings.mail_dir / "inbox" / "new").iterdir())) == 3
