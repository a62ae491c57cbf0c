"""The Maildir transport against real folders: send, fetch, done, find_sent."""
from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from mailer.errors import TransportError
from mailer.transports.base import Outgoing
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox


def message(n: int, message_id: str | None = None) -> bytes:
    """A small CRLF message numbered ``n``."""
    mid = message_id or f"<m{n}@example.test>"
    return (f"From: a@example.test\r\nTo: b@example.test\r\nMessage-ID: {mid}\r\n"
            f"Subject: number {n}\r\n\r\nbody {n}\r\n.leading dot stays\r\n").encode()


def outgoing(n: int, message_id: str | None = None) -> Outgoing:
    """``message(n)`` wrapped for ``send``."""
    data = message(n, message_id)
    return Outgoing(message_id=message_id or f"<m{n}@example.test>", sender="a@example.test",
                    recipients=("b@example.test",), data=data)


def files(folder: Path) -> list[Path]:
    """Every file in a Maildir's new/ and cur/."""
    return sorted(p for sub in ("new", "cur") for p in (folder / sub).glob("*") if p.is_file())


def test_send_writes_the_exact_bytes_into_a_real_maildir(tmp_path):
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(1))
    transport.send(outgoing(2))
    written = files(tmp_path / "outbox")
    return_path = b"Return-Path: <a@example.test>\r\n"
    assert sorted(p.read_bytes() for p in written) == [return_path + message(1), return_path + message(2)]
    assert not list((tmp_path / "outbox" / "tmp").iterdir())
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    assert sorted(m["Subject"] for m in box) == ["number 1", "number 2"]


def test_file_names_are_unique_even_for_identical_messages(tmp_path):
    transport = MaildirTransport(tmp_path)
    for _ in range(200):
        transport.send(outgoing(1))
    assert len({p.name for p in files(tmp_path / "outbox")}) == 200


def test_fetch_is_oldest_first_and_repeats_until_done(tmp_path):
    keys = [deliver_to_inbox(tmp_path, message(n)) for n in range(3)]
    # Make the modification times disagree with the names: age decides, not the file name.
    for age, key in zip((10, 30, 20), keys):
        path = tmp_path / "inbox" / "new" / key
        os.utime(path, (1_700_000_000 - age, 1_700_000_000 - age))
    transport = MaildirTransport(tmp_path)
    first = list(transport.fetch())
    assert [f.transport_id for f in first] == [keys[1], keys[2], keys[0]]
    assert [f.raw for f in first] == [message(1), message(2), message(0)]
    assert [f.transport_id for f in transport.fetch()] == [f.transport_id for f in first]


def test_done_moves_to_processed_and_never_deletes(tmp_path):
    key = deliver_to_inbox(tmp_path, message(7))
    transport = MaildirTransport(tmp_path)
    (fetched,) = list(transport.fetch())
    transport.done(fetched)
    assert list(transport.fetch()) == []
    (kept,) = files(tmp_path / "processed")
    assert kept.read_bytes() == message(7)
    assert kept.name.startswith(key) and kept.parent.name == "cur"
    transport.done(fetched)  # a second call (another worker, a retry) changes nothing
    assert files(tmp_path / "processed") == [kept]


def test_done_on_a_message_that_vanished_says_so(tmp_path):
    deliver_to_inbox(tmp_path, message(1))
    transport = MaildirTransport(tmp_path)
    (fetched,) = list(transport.fetch())
    for path in files(tmp_path / "inbox"):
        path.unlink()
    with pytest.raises(TransportError, match="neither"):
        transport.done(fetched)


def test_fetch_reads_cur_too_and_keeps_the_key_when_a_client_marked_it_seen(tmp_path):
    key = deliver_to_inbox(tmp_path, message(3))
    inbox = tmp_path / "inbox"
    os.rename(inbox / "new" / key, inbox / "cur" / f"{key}:2,S")
    transport = MaildirTransport(tmp_path)
    (fetched,) = list(transport.fetch())
    assert fetched.transport_id == key
    transport.done(fetched)
    assert not files(inbox)


def test_fetch_creates_a_missing_inbox(tmp_path):
    assert list(MaildirTransport(tmp_path / "fresh").fetch()) == []
    assert (tmp_path / "fresh" / "inbox" / "new").is_dir()


def test_find_sent_matches_the_message_id_header(tmp_path):
    transport = MaildirTransport(tmp_path)
    assert transport.keeps_sent is True
    transport.send(outgoing(1, "<abc.1@example.test>"))
    assert transport.find_sent("<abc.1@example.test>") is True
    assert transport.find_sent("abc.1@example.test") is True
    assert transport.find_sent("<abc.2@example.test>") is False


def test_find_sent_reads_a_folded_message_id(tmp_path):
    raw = b"From: a@example.test\r\nMessage-ID:\r\n <folded@example.test>\r\n\r\nhi\r\n"
    MaildirTransport(tmp_path).send(Outgoing("<folded@example.test>", "a@example.test",
                                             ("b@example.test",), raw))
    assert MaildirTransport(tmp_path).find_sent("<folded@example.test>") is True


def test_close_is_safe_twice(tmp_path):
    transport = MaildirTransport(tmp_path)
    transport.close()
    transport.close()


def test_find_sent_indexes_what_an_older_version_sent(tmp_path):
    from mailer.transports.maildir import write_message

    write_message(tmp_path / "outbox", message(1, "<old.1@example.test>"))  # no index yet
    transport = MaildirTransport(tmp_path)
    assert transport.find_sent("<old.1@example.test>") is True
    assert transport.find_sent("<old.2@example.test>") is False
    transport.send(outgoing(2, "<new.2@example.test>"))
    assert len(list((tmp_path / "outbox-index").iterdir())) == 2


def test_find_sent_is_not_fooled_by_an_index_entry_whose_file_never_appeared(tmp_path):
    """A worker killed between writing the index entry and the rename: not sent."""
    from mailer.transports.maildir import id_file

    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(1))
    id_file(tmp_path / "outbox-index", "<lost@example.test>").write_text("1.M1P1Q1.host")
    assert transport.find_sent("<lost@example.test>") is False
    assert transport.find_sent("<m1@example.test>") is True


def test_find_sent_follows_a_message_a_client_marked_read(tmp_path):
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(1))
    [path] = files(tmp_path / "outbox")
    os.rename(path, tmp_path / "outbox" / "cur" / f"{path.name}:2,RS")
    assert transport.find_sent("<m1@example.test>") is True
