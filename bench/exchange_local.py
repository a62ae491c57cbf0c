"""Exchange transport benchmark against the local EWS server: sends and reads per second.

    .venv/bin/python -m bench.exchange_local [--messages 300] [--json]

Sends N messages through the outbox (one CreateItem each), then delivers N replies and ingests
them (SyncFolderItems, GetItem in chunks of 10, one MoveItem each). The server is the in-memory
test server on loopback, so this measures cop-mailer + exchangelib + HTTP overhead, not Exchange:
a real server adds its own latency per request. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchangelib.protocol import Protocol  # noqa: E402

from mailer import inbox, outbox  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.store import open_db  # noqa: E402
from mailer.store import outbox as outbox_store  # noqa: E402
from mailer.transports import make_transport  # noqa: E402
from tests.ews_server import EwsServer  # noqa: E402

NOW = datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc)
MAILBOX = "cop@corp.example.com"


def message(n: int, sender: str, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, f"Message {n}"
    msg["Message-ID"] = f"<bench{n}.{sender}>"
    msg.set_content("A short line of text.\n" * 20)
    return msg.as_bytes()


def run(count: int) -> dict:
    server = EwsServer(MAILBOX).start()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "mailer.toml").write_text(
            f'[mailer]\ndata = "none"\naddress = "{MAILBOX}"\n[transport]\nkind = "exchange"\n'
            f'[exchange]\nmailbox = "{MAILBOX}"\nendpoint = "{server.url}"\nauth = "none"\n'
            '[outbox]\nbatch = 100000\n')
        settings = load_settings(home, env={})
        db = open_db(settings.db_path)
        transport = make_transport(settings, db)
        for n in range(count):
            outbox_store.enqueue_row(db, key=f"b:{n}", message_id=f"<bench{n}.{MAILBOX}>", to_addr="a@b.example",
                                     subject="x", data=message(n, MAILBOX, "a@b.example"), created_at=NOW)
        started = time.perf_counter()
        sent = outbox.flush(db, transport, NOW, settings, "bench").sent
        send_s = time.perf_counter() - started
        for n in range(count):
            server.deliver(message(n, "a@b.example", MAILBOX))
        started = time.perf_counter()
        result = inbox.InboxResult()
        inbox.ingest(db, transport, NOW, result)
        read_s = time.perf_counter() - started
        transport.close()
        db.close()
    server.stop()
    Protocol.clear_cache()
    return {"messages": count, "sent": sent, "send_per_s": round(sent / send_s, 1),
            "read": result.fetched, "read_per_s": round(result.fetched / read_s, 1),
            "requests": len(server.requests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.messages)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"sent {figures['sent']} at {figures['send_per_s']}/s; read and filed {figures['read']} at "
          f"{figures['read_per_s']}/s; {figures['requests']} EWS requests in all (local server)")


if __name__ == "__main__":
    main()
