"""The Maildir outbox's index log: what find_sent relies on after a crash."""
from __future__ import annotations

import shutil

from mailer.transports.maildir import INDEX_LOG, MaildirTransport, id_digest
from tests.transports.test_maildir import files, outgoing


def test_a_logged_send_whose_file_never_appeared_is_not_sent(tmp_path):
    """Killed between appending the index line and the rename: find_sent says not sent."""
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(1))
    with open(tmp_path / "outbox-index" / INDEX_LOG, "a", encoding="ascii") as log:
        log.write(f"{id_digest('<lost@example.test>')} 1.M1P1Q1R0.host\n")
    assert transport.find_sent("<lost@example.test>") is False
    assert transport.find_sent("<m1@example.test>") is True


def test_a_line_still_being_written_is_read_once_complete(tmp_path):
    sender, reader = MaildirTransport(tmp_path), MaildirTransport(tmp_path)
    sender.send(outgoing(1))
    assert reader.find_sent("<m1@example.test>") is True
    [path] = files(tmp_path / "outbox")
    log = tmp_path / "outbox-index" / INDEX_LOG
    line = f"{id_digest('<m2@example.test>')} {path.name}\n"
    with open(log, "a", encoding="ascii") as handle:
        handle.write(line[:20])  # another process is half-way through its write
    assert reader.find_sent("<m2@example.test>") is False
    with open(log, "a", encoding="ascii") as handle:
        handle.write(line[20:])
    assert reader.find_sent("<m2@example.test>") is True  # read on from where it stopped
    assert reader.find_sent("<m1@example.test>") is True


def test_sends_after_the_index_was_removed_are_found(tmp_path):
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(1))
    assert transport.find_sent("<m1@example.test>") is True
    shutil.rmtree(tmp_path / "outbox-index")
    transport.send(outgoing(2))  # the index is rebuilt from the outbox, then logged to again
    assert transport.find_sent("<m1@example.test>") is True
    assert transport.find_sent("<m2@example.test>") is True
    assert MaildirTransport(tmp_path).find_sent("<m2@example.test>") is True


def test_every_send_of_a_message_id_counts(tmp_path):
    """A resend of the same email (its first try uncertain) adds a line; either file will do."""
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(1))
    transport.send(outgoing(1))
    first, second = files(tmp_path / "outbox")
    second.unlink()
    assert transport.find_sent("<m1@example.test>") is True
    first.unlink()
    assert transport.find_sent("<m1@example.test>") is False
