"""Sending a batch into the Maildir outbox with one flush to disk: nothing visible before it is
on disk, every message once, a kill -9 between two renames loses and repeats nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import outbox
from mailer.config import load_settings
from mailer.errors import TemporarySendError
from mailer.flows.base import PlannedEmail
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from mailer.transports import maildir_files
from mailer.transports.maildir import MaildirTransport, header_message_id
from tests.transports.test_maildir import files, message, outgoing

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def flushes(monkeypatch):
    """Each flush to disk as the batch stood at that moment: (files in tmp/, files in new/)."""
    seen: list[tuple[set[str], set[str]]] = []
    real = maildir_files.flush_to_disk

    def spy(handles: list[int]) -> None:
        folder = Path(os.readlink(f"/proc/self/fd/{handles[0]}")).parents[1]
        seen.append(({p.name for p in (folder / "tmp").iterdir()}, {p.name for p in (folder / "new").iterdir()}))
        real(handles)

    monkeypatch.setattr(maildir_files, "flush_to_disk", spy)
    return seen


def test_a_batch_is_flushed_to_disk_once_before_any_of_it_is_visible(tmp_path, flushes):
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(0))  # one sent before, on its own
    assert transport.send_batch([outgoing(n) for n in range(1, 31)]) == [None] * 30
    [(in_tmp, in_new)] = flushes
    assert len(in_tmp) == 30 and len(in_new) == 1  # the batch all in tmp/, none of it in new/ yet
    written = files(tmp_path / "outbox")
    assert {p.name for p in written} == in_tmp | in_new
    head = b"Return-Path: <a@example.test>\r\n"
    assert sorted(p.read_bytes() for p in written) == sorted(head + message(n) for n in range(31))
    assert list((tmp_path / "outbox" / "tmp").iterdir()) == []
    assert all(MaildirTransport(tmp_path).find_sent(f"<m{n}@example.test>") for n in range(31))


def test_without_syncfs_each_file_is_flushed_before_any_rename(tmp_path, flushes, monkeypatch):
    monkeypatch.setattr(maildir_files, "_SYNCFS", None)
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(maildir_files.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    transport = MaildirTransport(tmp_path)
    assert transport.send_batch([outgoing(n) for n in range(12)]) == [None] * 12
    assert len(synced) == 12 and flushes == [({p.name for p in files(tmp_path / "outbox")}, set())]


def test_a_large_batch_keeps_a_bounded_number_of_files_open(tmp_path, flushes, monkeypatch):
    monkeypatch.setattr("mailer.transports.maildir.BATCH_FILES", 4)
    assert MaildirTransport(tmp_path).send_batch([outgoing(n) for n in range(10)]) == [None] * 10
    assert [len(in_tmp) for in_tmp, _ in flushes] == [4, 4, 2] and len(files(tmp_path / "outbox")) == 10


def test_an_outbox_folder_removed_since_the_last_send_is_made_again(tmp_path):
    transport = MaildirTransport(tmp_path)
    transport.send(outgoing(0))
    for sub in ("tmp", "new", "cur"):
        for path in (tmp_path / "outbox" / sub).iterdir():
            path.unlink()
        (tmp_path / "outbox" / sub).rmdir()
    assert transport.send_batch([outgoing(1), outgoing(2)]) == [None, None]
    assert len(files(tmp_path / "outbox")) == 2


CHILD = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from mailer.transports.base import Outgoing
    from mailer.transports.maildir import MaildirTransport, ensure_maildir

    transport = MaildirTransport(Path(sys.argv[1]))
    ensure_maildir(transport.outbox)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    def mail(n, size):
        data = f"From: a@example.test\\r\\nMessage-ID: <m{n}@example.test>\\r\\n\\r\\n".encode() + b"x" * size
        return Outgoing(f"<m{n}@example.test>", "a@example.test", ("b@example.test",), data)
    for error in transport.send_batch([mail(1, 100), mail(2, 200_000), mail(3, 100)]):
        print(f"{type(error).__name__} {error}" if error else "sent")
""")


def test_a_message_the_disk_cannot_take_fails_alone_and_leaves_nothing(tmp_path):
    """A real full disk for one message of three: RLIMIT_FSIZE in a child process (EFBIG)."""
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outcomes = result.stdout.splitlines()
    assert outcomes[0] == "sent" and outcomes[2] == "sent"
    assert outcomes[1].startswith(f"{TemporarySendError.__name__} could not write to")  # retried later
    assert sorted(header_message_id(p) for p in files(tmp_path / "outbox")) == ["<m1@example.test>",
                                                                                "<m3@example.test>"]
    assert list((tmp_path / "outbox" / "tmp").iterdir()) == []


def queued(home: Path, count: int):
    """The ``home`` (conftest: Maildir transport) with ``count`` emails to Alice in the outbox,
    and a short lease: its settings and database."""
    with open(home / "mailer.toml", "a", encoding="utf-8") as toml:
        toml.write("\n[outbox]\nbatch = 5000\nlease_seconds = 5\n")
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    people.add_person(db, "alice@example.test", "Alice", "UTC")
    plans = [PlannedEmail(key=f"batch:{i}", to="alice@example.test", subject=f"Message {i}",
                          template="system/unrouted", context={"their_subject": str(i)}) for i in range(count)]
    assert outbox.enqueue(db, plans, T0, settings) == count
    return settings, db


def sent_ids(settings) -> list[str]:
    return sorted(header_message_id(p) for p in files(settings.mail_dir / "outbox"))


def test_the_outbox_flushes_each_claimed_batch_to_disk_once(home, flushes):
    settings, db = queued(home, 120)
    result = outbox.flush(db, MaildirTransport(settings.mail_dir), T0, settings, "test")
    assert result.sent == 120 and outbox_store.counts(db) == {"sent": 120}
    assert [len(in_tmp) for in_tmp, _ in flushes] == [outbox.CLAIM, 120 - outbox.CLAIM]  # one flush a claim
    assert sent_ids(settings) == sorted(r["message_id"] for r in outbox_store.list_rows(db, "sent", 200))


def tick(home: Path, now: datetime, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "--home", str(home), "tick", "--json",
                           "--now", now.isoformat()], capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.mark.slow
@pytest.mark.parametrize("renamed", [1, 75])
def test_kill_9_between_two_renames_sends_every_email_exactly_once(home, renamed):
    settings, db = queued(home, 120)
    killed = tick(home, T0, {"MAILER_TEST_KILL_AT": f"maildir-renamed@{renamed}"})
    assert killed.returncode == -9, killed.stderr.decode()
    assert len(sent_ids(settings)) == renamed  # the kill came right after this many renames
    assert outbox_store.counts(db).get("sending", 0) > 0  # the batch in flight is not recorded

    restarted = tick(home, T0 + timedelta(minutes=1))
    assert restarted.returncode == 0, restarted.stderr.decode()
    assert outbox_store.counts(db) == {"sent": 120}
    expected = sorted(r["message_id"] for r in outbox_store.list_rows(db, "sent", 200))
    assert sent_ids(settings) == expected  # each email once: none lost, none written twice
