"""Send-path benchmark: our SMTP transport against raw smtplib, on one loopback sink, same run.

    .venv/bin/python -m bench.send_path [--count 2000] [--runs 3]

notes/performance.md, "how to report the send path": report the service's messages/s divided by
raw smtplib over one reused connection on the same sink in the same run, because absolute
numbers depend on the machine. ``Sink`` and ``sample_message`` are importable for the
full-pipeline benchmark.
"""
from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402

from mailer.transports.base import Outgoing  # noqa: E402
from mailer.transports.smtp_imap import SmtpImapSettings, SmtpImapTransport  # noqa: E402

SENDER = "cop@example.test"
RECIPIENT = "member@example.test"


class _Counter:
    """aiosmtpd handler that accepts everything and only counts (no storage cost)."""

    def __init__(self, received) -> None:
        self.received = received  # a multiprocessing.Value shared with the parent

    async def handle_DATA(self, server, session, envelope) -> str:
        """Count the message and accept it."""
        with self.received.get_lock():
            self.received.value += 1
        return "250 2.0.0 OK"


def _serve(host: str, port: int, received, ready, stop) -> None:
    """Body of the sink process: serve until ``stop`` is set."""
    controller = Controller(_Counter(received), hostname=host, port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    """A loopback SMTP server that accepts and discards mail; use as a context manager.

    It runs in its own process: in the client's process its event loop would compete with the
    client for the GIL, and the numbers would measure that contention.
    """

    def __init__(self) -> None:
        """Pick a free port; nothing listens until ``start``."""
        self.host = "127.0.0.1"
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        ctx = multiprocessing.get_context("spawn")
        self._received = ctx.Value("l", 0)
        self._ready, self._stop = ctx.Event(), ctx.Event()
        self._process = ctx.Process(target=_serve, daemon=True, args=(
            self.host, self.port, self._received, self._ready, self._stop))

    @property
    def received(self) -> int:
        """Messages accepted so far."""
        return self._received.value

    def settings(self) -> SmtpImapSettings:
        """SmtpImapTransport settings that send to this sink (no TLS, no login; IMAP unused)."""
        return SmtpImapSettings(smtp_host=self.host, smtp_port=self.port, smtp_security="none",
                                smtp_user="", smtp_password="", imap_host=self.host, imap_port=1,
                                imap_security="none", imap_user="", imap_password="")

    def start(self) -> "Sink":
        """Start the sink process and wait until it listens."""
        self._process.start()
        if not self._ready.wait(30):
            self.stop()
            raise RuntimeError("the SMTP sink did not start within 30 s")
        return self

    def stop(self) -> None:
        """Stop the sink process (by its own pid)."""
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()

    def __enter__(self) -> "Sink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def sample_message(n: int, size: int = 600) -> bytes:
    """A plain-text message of about ``size`` bytes with CRLF line endings."""
    head = (f"From: CoP <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: Day {n}: today's activity\r\n"
            f"Message-ID: <bench.{n}@example.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nAuto-Submitted: auto-generated\r\n\r\n")
    line = "Write three sentences about what you practised today.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return (head + body).encode()


def raw_smtplib(sink: Sink, messages: list[bytes]) -> None:
    """The baseline: smtplib.sendmail over one reused connection."""
    with smtplib.SMTP(sink.host, sink.port) as conn:
        for data in messages:
            conn.sendmail(SENDER, [RECIPIENT], data)


def our_transport(sink: Sink, messages: list[bytes]) -> None:
    """SmtpImapTransport.send for each message, as the outbox calls it."""
    transport = SmtpImapTransport(sink.settings())
    try:
        for n, data in enumerate(messages):
            transport.send(Outgoing(f"<bench.{n}@example.test>", SENDER, (RECIPIENT,), data))
    finally:
        transport.close()


def rate(run: Callable[[Sink, list[bytes]], None], sink: Sink, messages: list[bytes]) -> float:
    """Messages per second of one run, checked against what the sink received."""
    before = sink.received
    start = time.perf_counter()
    run(sink, messages)
    elapsed = time.perf_counter() - start
    if sink.received - before != len(messages):
        raise RuntimeError(f"sink got {sink.received - before} of {len(messages)} messages")
    return len(messages) / elapsed


def measure(count: int, runs: int, size: int) -> dict[str, list[float]]:
    """Median messages/s of each sender on one sink, taking turns (which goes first alternates)."""
    messages = [sample_message(n, size) for n in range(count)]
    senders = {"raw smtplib": raw_smtplib, "SmtpImapTransport": our_transport}
    results: dict[str, list[float]] = {name: [] for name in senders}
    with Sink() as sink:
        for run_number in range(runs):
            order = list(senders) if run_number % 2 == 0 else list(reversed(senders))
            for name in order:
                results[name].append(rate(senders[name], sink, messages))
    return results


def main(argv: list[str] | None = None) -> None:
    """Print messages/s of both senders and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="messages per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per sender (the median is shown)")
    parser.add_argument("--size", type=int, default=600, help="approximate message size in bytes")
    args = parser.parse_args(argv)
    results = measure(args.count, args.runs, args.size)
    base = statistics.median(results["raw smtplib"])
    print(f"send path, {args.count} x ~{args.size} B messages, median of {args.runs} runs, "
          "loopback aiosmtpd sink in its own process")
    for name, values in results.items():
        value = statistics.median(values)
        print(f"  {name:<20} {value:8.0f} msg/s  (runs {min(values):.0f}-{max(values):.0f})"
              f"   {value / base:5.2f} x raw smtplib")


if __name__ == "__main__":
    main()
