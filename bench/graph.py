"""Graph transport benchmark against the local Graph of the tests (tests/graph_server.py).

    .venv/bin/python -m bench.graph [--count 500]

Prints sends per second through ``GraphTransport.send`` beside raw ``requests`` posting the
same bodies to the same server in the same run (the ratio is the transport's own cost), then
messages per second read through the inbox (delta pages + ``$value`` + ``move``) and the Graph
requests each message cost. Absolute figures say little: real Graph adds ~50-200 ms a call.
Each send figure is the best of three interleaved runs after a warm-up. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from mailer import inbox  # noqa: E402
from mailer.store import open_db  # noqa: E402
from mailer.store.sync_state import SyncState  # noqa: E402
from mailer.transports.base import Outgoing  # noqa: E402
from mailer.transports.graph import GraphTransport  # noqa: E402
from mailer.transports.graph_http import GraphSettings  # noqa: E402
from tests.graph_server import GraphServer  # noqa: E402

MAILBOX = "cop@example.test"


def message(n: int) -> bytes:
    """A small plain message like a day email."""
    return (f"Message-ID: <bench{n}@example.test>\r\nFrom: {MAILBOX}\r\nTo: p{n}@corp.example.com\r\n"
            f"Subject: Day 3 of 30\r\n\r\n" + "Today's activity, a few paragraphs.\r\n" * 40).encode()


def raw_posts(server: GraphServer, count: int) -> float:
    """Sends per second with a bare requests session, the same bodies and headers."""
    session, url = requests.Session(), f"{server.endpoint}/users/{MAILBOX}/sendMail"
    start = time.perf_counter()
    for n in range(count):
        session.post(url, data=base64.b64encode(message(n)), headers={"Content-Type": "text/plain"}).raise_for_status()
    return count / (time.perf_counter() - start)


def transport_sends(transport: GraphTransport, count: int) -> float:
    """Sends per second through the transport."""
    start = time.perf_counter()
    for n in range(count):
        transport.send(Outgoing(f"<bench{n}@example.test>", MAILBOX, (f"p{n}@corp.example.com",), message(n)))
    return count / (time.perf_counter() - start)


def reads(server: GraphServer, transport: GraphTransport, db, count: int) -> tuple[float, float]:
    """Messages per second stored and filed away by ``inbox.ingest``, and requests per message."""
    for n in range(count):
        server.deliver(message(10_000 + n))
    calls = len(server.box.log)
    start = time.perf_counter()
    result = inbox.InboxResult()
    inbox.ingest(db, transport, datetime.now(timezone.utc), result)
    elapsed = time.perf_counter() - start
    assert result.fetched == count
    return count / elapsed, (len(server.box.log) - calls) / count


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    count = parser.parse_args().count
    with GraphServer(MAILBOX) as server, tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "mailer.db")
        settings = GraphSettings(mailbox=MAILBOX, endpoint=server.endpoint, auth="none", page_size=50)
        transport = GraphTransport(settings, SyncState(db))
        raw_posts(server, 50), transport_sends(transport, 50)  # warm both up
        pairs = [(transport_sends(transport, count), raw_posts(server, count)) for _ in range(3)]
        ours, raw = max(p[0] for p in pairs), max(p[1] for p in pairs)
        per_s, calls = reads(server, transport, db, count)
        print(f"send:  {ours:7.0f}/s through GraphTransport, {raw:7.0f}/s raw requests (ratio {ours / raw:.2f})")
        print(f"read:  {per_s:7.0f}/s through inbox.ingest, {calls:.2f} Graph requests a message "
              f"(page size {settings.page_size})")


if __name__ == "__main__":
    main()
