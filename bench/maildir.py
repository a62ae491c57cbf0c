"""Maildir transport: sending (one ``send`` an email, one ``fsync`` each, against ``send_batch``
of the outbox's claimed batches, one flush to disk each), ``done`` for every message of a large
inbox, ``find_sent`` in a large outbox (the reconciliation of uncertain rows after a kill).

    .venv/bin/python -m bench.maildir [--count 10000] [--checks 200] [--size 5000] [--rounds 3]

Real folders in a temporary directory (on the file system ``--dir`` names, default the system's
temporary folder). Sending is timed in wall clock and this process's CPU (user + system), the
two ways alternating, the best round of each shown. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer.transports import maildir_files  # noqa: E402
from mailer.transports.base import Outgoing  # noqa: E402
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox  # noqa: E402

CLAIMED = 50  # rows the outbox claims and hands over at a time (store.claim's limit in flush)


def raw(n: int) -> bytes:
    """A small message numbered ``n``."""
    return (f"From: a@example.test\r\nTo: b@example.test\r\nMessage-ID: <m{n}@example.test>\r\n"
            f"Subject: number {n}\r\n\r\nbody {n}\r\n").encode()


def mails(count: int, size: int) -> list[Outgoing]:
    """``count`` emails of about ``size`` bytes."""
    pad = b"x" * max(size - 120, 0) + b"\r\n"
    return [Outgoing(f"<s{n}@example.test>", "a@example.test", ("b@example.test",), raw(n) + pad)
            for n in range(count)]


def send_once(root: Path, outgoing: list[Outgoing], batched: bool) -> tuple[float, float]:
    """(wall, CPU) seconds to send ``outgoing`` into a fresh outbox one by one or in claimed batches."""
    transport = MaildirTransport(root)
    transport.send(Outgoing("<warm@example.test>", "a@example.test", ("b@example.test",), raw(0)))
    os.sync()  # what earlier rounds left dirty is not this round's to write
    wall, cpu = time.perf_counter(), time.process_time()
    if batched:
        for start in range(0, len(outgoing), CLAIMED):
            if any(transport.send_batch(outgoing[start:start + CLAIMED])):
                raise RuntimeError("a batch send failed")
    else:
        for mail in outgoing:
            transport.send(mail)
    return time.perf_counter() - wall, time.process_time() - cpu


def sending(folder: Path, count: int, size: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) per email of each way over ``rounds`` alternating rounds."""
    outgoing = mails(count, size)
    best: dict[str, tuple[float, float]] = {}
    for n in range(rounds):
        for name, batched in (("send", False), ("send_batch", True))[:: 1 if n % 2 == 0 else -1]:
            with tempfile.TemporaryDirectory(prefix="cop-maildir-send-", dir=folder) as tmp:
                wall, cpu = send_once(Path(tmp), outgoing, batched)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall / count), min(old[1], cpu / count))
    return best


def main(argv: list[str] | None = None) -> None:
    """Time sending, the inbox's done() and the outbox's find_sent() at ``--count`` messages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000, help="messages in each folder")
    parser.add_argument("--checks", type=int, default=200, help="find_sent look-ups (half of them absent)")
    parser.add_argument("--size", type=int, default=5000, help="bytes of each email sent")
    parser.add_argument("--rounds", type=int, default=3, help="sending rounds of each way (best shown)")
    parser.add_argument("--dir", type=Path, default=None, help="where the folders go (its file system is timed)")
    args = parser.parse_args(argv)
    send = sending(args.dir or Path(tempfile.gettempdir()), min(args.count, 2000), args.size, args.rounds)
    way = "syncfs" if maildir_files._SYNCFS is not None else "one fsync a file (no syncfs here)"
    print(f"maildir sending, {min(args.count, 2000):,} emails of {args.size:,} bytes, best of {args.rounds} rounds")
    for name, (wall, cpu) in send.items():
        print(f"  {name:<12} {wall * 1e3:7.3f} ms wall  {cpu * 1e3:7.3f} ms CPU an email"
              + (f"  (batches of {CLAIMED}, one flush each: {way})" if name == "send_batch" else "  (one fsync each)"))
    with tempfile.TemporaryDirectory(prefix="cop-maildir-", dir=args.dir) as tmp:
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
