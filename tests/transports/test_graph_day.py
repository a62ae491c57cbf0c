"""Challenge days through the real worker tick on the Graph transport, and an opt-in live test.

The local Graph (tests/graph_server.py) stands in for Exchange Online: day emails go out with
``sendMail``, replies arrive in its inbox and are read with the delta query, exactly as the
transport would against Microsoft 365. The live test runs the same calls against a real tenant
only when its credentials are in the environment.
"""
from __future__ import annotations

import email
import email.policy
import os
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import compose_reply
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from mailer.store.sync_state import SyncState
from mailer.transports import make_transport
from mailer.transports.base import Outgoing
from mailer.transports.graph import GraphTransport
from mailer.transports.graph_http import GraphSettings
from tests.graph_server import GraphServer
from tests.transports.test_graph import RecordingClock
from tests.test_challenge_e2e import ENTRIES, REPLIES, START, ZONES, challenge_file, day_emails, journal_texts

MAILBOX = "cop@example.test"
LIVE_VARS = ("MAILER_GRAPH_LIVE_MAILBOX", "MAILER_GRAPH_LIVE_TENANT_ID", "MAILER_GRAPH_LIVE_CLIENT_ID",
             "MAILER_GRAPH_CLIENT_SECRET")


def graph_home(tmp_path, server: GraphServer):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text(
        f'[mailer]\ndata = "none"\naddress = "{MAILBOX}"\n[transport]\nkind = "graph"\n'
        f'[graph]\nendpoint = "{server.endpoint}"\nauth = "none"\n')
    return load_settings(home, env={})


def day_email(server: GraphServer, address: str, day: int) -> bytes:
    for raw in server.sent():
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if msg["To"].addresses[0].addr_spec == address and msg["Subject"].startswith(f"Day {day} of"):
            return raw
    raise AssertionError(f"no day {day} email to {address}")


def test_challenge_days_with_replies_through_the_worker_on_graph(tmp_path):
    with GraphServer(MAILBOX) as server:
        settings = graph_home(tmp_path, server)
        assert settings.rate_limits == (30, 10_000)  # kind = graph paces like Exchange Online
        db = open_db(settings.db_path)
        addresses = {f"{name}@corp.example.com": zone for name, zone in ZONES.items()}
        for address, zone in addresses.items():
            people.add_person(db, address, address.split("@")[0].title(), zone)
        start_challenge(db, challenge_file(tmp_path, list(addresses)), START)
        transport = make_transport(settings, db)
        assert isinstance(transport, GraphTransport)
        oliver = "oliver@corp.example.com"
        owner = worker.worker_id()
        for hour in range(4 * 24):
            now = START + timedelta(hours=hour)
            if now == datetime(2027, 1, 5, 7, tzinfo=timezone.utc):
                server.drop_next_send()  # one answer lost: the row is unknown, then settled
            for (day, client), text in REPLIES.items():
                if now == datetime(2027, 1, 3, 12, tzinfo=timezone.utc) + timedelta(days=day):
                    raw = compose_reply(day_email(server, oliver, day), oliver, "Oliver", text, client, now)
                    server.deliver(raw)
                    server.deliver(raw)  # delivered twice (a retrying relay): acted on once
            worker.tick(db, transport, now, settings, owner)
        transport.close()

        sent = day_emails(server.sent())
        for address in addresses:
            days = sorted(day for day, _ in sent[address])
            assert days[:3] == [1, 2, 3] and len(days) == len(set(days)), (address, days)
        assert outbox_store.counts(db).get("unknown", 0) == 0
        settled = [r for r in outbox_store.list_rows(db, "sent", limit=1000) if r["last_error"] == "found in Sent folder"]
        assert len(settled) == 1  # the dropped answer: found in Sent Items, not sent twice
        assert journal_texts(db, oliver) == {day: text for (day, _), text in ENTRIES.items() if day <= 3}
        assert server.folder("inbox") == [] and len(server.folder("Processed")) == 4

        before = len(server.sent())
        again = make_transport(settings, db)  # a restarted worker ticking the same hour
        worker.tick(db, again, START + timedelta(hours=4 * 24 - 1), settings, "again")
        assert len(server.sent()) == before
        db.close()


@pytest.mark.parametrize("wait", [30, 3600])  # slept through inside a request / kept in the store
def test_a_throttle_for_forty_ticks_delays_the_day_emails_and_kills_none(tmp_path, wait):
    # Issue 20: 429 + Retry-After on every request for 40 ticks five minutes apart (a mailbox
    # over its daily limit); every day email ended dead, without one sendMail made.
    with GraphServer(MAILBOX) as server:
        settings = graph_home(tmp_path, server)
        db = open_db(settings.db_path)
        addresses = [f"m{n:02d}@corp.example.com" for n in range(20)]
        for address in addresses:
            people.add_person(db, address, address.split("@")[0].title(), "UTC")
        start_challenge(db, challenge_file(tmp_path, addresses), START)
        moment = [START + timedelta(days=1, hours=12)]  # day 1 is due everywhere
        graph = GraphSettings(mailbox=MAILBOX, endpoint=server.endpoint, auth="none")
        transport = GraphTransport(graph, SyncState(db), clock=RecordingClock(), now=lambda: moment[0])
        server.throttle(10**6, retry_after=wait)
        for _ in range(40):
            worker.tick(db, transport, moment[0], settings, "w1")
            moment[0] += timedelta(minutes=5)
        queued = outbox_store.counts(db)
        assert server.sent() == [] and list(queued) == ["pending"]  # none dead, none failed
        assert len(day_emails(server.sent())) == 0 and queued["pending"] >= 20
        server.throttle(0, retry_after=0)  # the mailbox is served again
        moment[0] += timedelta(seconds=wait)
        for _ in range(2):  # 30 a minute (Exchange Online's pace)
            worker.tick(db, transport, moment[0], settings, "w1")
            moment[0] += timedelta(minutes=1)
        assert outbox_store.counts(db) == {"sent": queued["pending"]}
        assert sorted(day for sent in day_emails(server.sent()).values() for day, _ in sent) == [1] * 20
        assert {row["attempts"] for row in outbox_store.list_rows(db, "sent", 100)} == {1}  # waits never counted
        db.close()


@pytest.mark.skipif(not all(os.environ.get(v) for v in LIVE_VARS),
                    reason="live Graph test: set " + ", ".join(LIVE_VARS) + " for a real tenant")
def test_live_tenant_send_find_and_read():
    """Against a real mailbox: check, send one message to itself, find it in Sent Items, read it."""
    env = os.environ
    settings = GraphSettings(mailbox=env["MAILER_GRAPH_LIVE_MAILBOX"], tenant_id=env["MAILER_GRAPH_LIVE_TENANT_ID"],
                             client_id=env["MAILER_GRAPH_LIVE_CLIENT_ID"],
                             client_secret=env["MAILER_GRAPH_CLIENT_SECRET"],
                             processed_folder="cop-mailer live test")
    transport = GraphTransport(settings)
    assert all(line.ok for line in transport.check()), transport.check()
    mid = f"<live.{secrets.token_hex(8)}@{settings.mailbox.partition('@')[2]}>"
    data = (f"Message-ID: {mid}\r\nFrom: {settings.mailbox}\r\nTo: {settings.mailbox}\r\n"
            "Subject: cop-mailer live test\r\n\r\nSent by the opt-in live test; safe to delete.\r\n").encode()
    transport.send(Outgoing(mid, settings.mailbox, (settings.mailbox,), data))
    found = seen = False
    for _ in range(12):  # Exchange files the copy and delivers within seconds
        found = found or transport.find_sent(mid)
        for fetched in transport.fetch():
            if mid.encode() in fetched.raw:
                seen = True
                transport.done(fetched)
        if found and seen:
            break
        transport.http.clock.sleep(5)
    transport.close()
    assert found and seen
