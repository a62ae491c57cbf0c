"""Kill -9 a tick at every step of reading the inbox, on every transport: the next tick gets
every reply exactly once (issue 20, "a tick killed while reading over Graph loses every reply").

The rule under test: a sync position (Graph delta link, EWS sync state) moves past a message
only once the message is kept raw in the inbox table. The tick is a real ``run.py tick``
subprocess that kills itself with SIGKILL at the kill point named in ``MAILER_TEST_KILL_AT``
(mailer/faults.py); the servers are the real Maildir, the real Dovecot rig over IMAP, and the
local EWS and Graph test servers.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
from exchangelib.protocol import Protocol

from mailer import worker
from mailer.config import load_settings
from mailer.faults import KILL_AT
from mailer.flows.challenge import timing as ct
from mailer.flows.challenge.definition import load_definition, start_challenge
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import open_db, people
from mailer.transports.maildir import deliver_to_inbox, list_messages
from tests.conftest import write_rig_home
from tests.ews_server import EwsServer
from tests.graph_server import GraphServer
from tests.test_inbox_crash import CHALLENGE, count, tick
from tests.transports.test_exchange import MAILBOX as EWS_MAILBOX
from tests.transports.test_exchange import write_home as write_ews_home
from tests.transports.test_graph_day import graph_home

REPLIES = 3
# Where the tick dies: a reply read but not kept, every reply read, the batch kept but nothing
# filed away, part of it filed, all filed but the position not saved, the position saved.
POINTS = ("fetched@2", "read", "stored", "filed@2", f"filed@{REPLIES}", "committed")
KEEPS_A_POSITION = {"graph", "exchange"}  # the others read their inbox folder: no position to save


@dataclass
class Server:
    """A mail server with an inbox the tick reads: where its home is, how to deliver a reply,
    and how many messages are still waiting in its inbox."""

    home: Path
    deliver: Callable[[bytes], object]
    waiting: Callable[[], int]


@contextmanager
def maildir_server(tmp_path: Path, request) -> Iterator[Server]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n', encoding="utf-8")
    mail = load_settings(home, env={}).mail_dir
    yield Server(home, lambda raw: deliver_to_inbox(mail, raw), lambda: len(list_messages(mail / "inbox")))


@contextmanager
def imap_server(tmp_path: Path, request) -> Iterator[Server]:
    rig, users = request.getfixturevalue("mail_rig"), request.getfixturevalue("rig_users")
    mailer = users["mailer"]

    def deliver(raw: bytes) -> None:
        with rig.imap_client(mailer) as client:
            client.append("INBOX", raw)

    def waiting() -> int:
        with rig.imap_client(mailer) as client:
            return client.select_folder("INBOX", readonly=True)[b"EXISTS"]

    yield Server(write_rig_home(tmp_path / "home", rig, mailer), deliver, waiting)


@contextmanager
def exchange_server(tmp_path: Path, request) -> Iterator[Server]:
    server = EwsServer(EWS_MAILBOX).start()
    try:
        home = tmp_path / "home"
        home.mkdir()
        yield Server(write_ews_home(home, server), server.deliver, lambda: len(server.items("inbox")))
    finally:
        server.stop()
        Protocol.clear_cache()


@contextmanager
def graph_server(tmp_path: Path, request) -> Iterator[Server]:
    with GraphServer() as server:
        yield Server(graph_home(tmp_path, server).home, server.deliver, lambda: len(server.folder("inbox")))


SERVERS = {"maildir": maildir_server, "imap": imap_server, "exchange": exchange_server, "graph": graph_server}


def day_one_replies(home: Path, deliver: Callable[[bytes], object]):
    """A running challenge with day 1 queued for REPLIES members, and each member's journal
    reply (as Outlook, Gmail and Apple Mail write it) delivered; returns when to tick."""
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for n in range(REPLIES):
        people.add_person(db, f"m{n}@corp.example.com", f"Member {n}", "UTC", ("member",))
    definition = load_definition(CHALLENGE)
    day1 = ct.opens_at(definition.start, 1, definition.send, "UTC") + timedelta(minutes=1)
    start_challenge(db, CHALLENGE, day1 - timedelta(days=3))
    worker.plan_due(db, day1 - timedelta(days=2), settings)
    worker.plan_due(db, day1, settings)
    rows = list(db.query("SELECT to_addr, data FROM outbox JOIN outbox_data USING (id) "
                         "WHERE key LIKE 'challenge:%:day:1:%' ORDER BY to_addr"))
    assert len(rows) == REPLIES
    db.execute("UPDATE outbox SET state = 'sent'")  # sent already: the ticks under test only read
    db.conn.commit()
    for n, row in enumerate(rows):
        text = f"Entry number {n}: mapped the pipeline.\n\nBest regards,\nMember {n}"
        deliver(compose_reply(row["data"], row["to_addr"], f"Member {n}", text, CLIENTS[n % len(CLIENTS)], day1))
    return db, day1 + timedelta(hours=1)


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("kind", [pytest.param("imap", marks=pytest.mark.rig), "maildir", "exchange", "graph"])
def test_a_tick_killed_while_reading_loses_no_reply_and_keeps_none_twice(kind, point, tmp_path, request):
    with SERVERS[kind](tmp_path, request) as server:
        db, later = day_one_replies(server.home, server.deliver)
        killed = tick(server.home, later, {KILL_AT: point})
        _, err = killed.communicate(timeout=120)
        if point == "committed" and kind not in KEEPS_A_POSITION:
            assert killed.returncode == 0, err.decode()  # never reached: nothing to commit
        else:
            assert killed.returncode == -signal.SIGKILL, err.decode()

        for minutes in (1, 2):  # the second tick finds nothing more
            again = tick(server.home, later + timedelta(minutes=minutes))
            _, err = again.communicate(timeout=120)
            assert again.returncode == 0, err.decode()
        assert count(db, "SELECT count(*) FROM inbox") == REPLIES, "a reply was lost or kept twice"
        assert count(db, "SELECT count(*) FROM inbox WHERE state = 'done'") == REPLIES
        assert count(db, "SELECT count(DISTINCT message_id) FROM journal_entries") == REPLIES
        assert server.waiting() == 0  # every reply filed away on the server
        db.close()
