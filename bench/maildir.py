"""Maildir transport look-ups: ``done`` for every message of a large inbox, ``find_sent`` in a
large outbox (the reconciliation of uncertain rows after a kill).

    .venv/bin/python -m bench.maildir [--count 10000] [--checks 200]

Real folders in a temporary directory. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer.transports.base import Outgoing  # noqa: E402
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox  # noqa: E402


def raw(n: int) -> bytes:
    """A small message numbered ``n``."""
    return (f"From: a@example.test\r\nTo: b@example.test\r\nMessage-ID: <m{n}@example.test>\r\n"
            f"Subject: number {n}\r\n\r\nbody {n}\r\n").encode()


def main(argv: list[str] | None = None) -> None:
    """Time the inbox's done() and the outbox's find_sent() at ``--count`` messages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000, help="messages in each folder")
    parser.add_argument("--checks", type=int, default=200, help="find_sent look-ups (half of them absent)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cop-maildir-") as tmp:
        transport = MaildirTransport(Path(tmp))
        for n in range(args.count):
            deliver_to_inbox(Path(tmp), raw(n))
            transport.send(Outgoing(f"<m{n}@example.test>", "a@example.test", ("b@example.test",), raw(n)))
        fetched = list(transport.fetch())
        begin = time.perf_counter()
        for item in fetched:
            transport.done(item)
        done_s = time.perf_counter() - begin
        begin = time.perf_counter()
        wanted = [n if n % 2 else args.count + n for n in range(args.checks)]  # odd ones were sent
        found = sum(bool(transport.find_sent(f"<m{n}@example.test>")) for n in wanted)
        find_s = time.perf_counter() - begin
    print(f"maildir, {args.count:,} messages per folder")
    print(f"  done() per inbox message      {done_s / len(fetched) * 1e6:8.1f} us  ({len(fetched)} filed)")
    print(f"  find_sent() per uncertain row {find_s / args.checks * 1e6:8.1f} us  ({found} of {args.checks} found)")


if __name__ == "__main__":
    main()
