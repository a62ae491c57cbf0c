"""Hostile replies for the reply benchmark: what an attacker (or a broken client) could send.

Each case is raw message bytes read the way the worker reads a reply (parse, classify, new
text, intent). ``bench.replies`` prints how long each takes; each should stay well under a
second, however the message is built. The same builders feed tests/inbound/test_hostile.py.
"""
from __future__ import annotations

import time
from typing import Callable

from mailer.inbound.classify import classify
from mailer.inbound.commands import interpret
from mailer.inbound.message import parse_message
from mailer.inbound.reply import reply_text

HEAD = (b"From: Member <m@example.org>\r\nTo: cop@example.org\r\nSubject: Re: Day 4\r\n"
        b"Message-ID: <hostile@example.org>\r\n")


def plain(body: str) -> bytes:
    """A text/plain message with ``body`` as its (UTF-8, 8bit) body."""
    return (HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body.encode("utf-8"))


def many_lines(count: int = 20_000) -> bytes:
    """``count`` short lines, with sign-offs, quotes and disclaimers sprinkled through."""
    pattern = ["ok", "Thanks,", "> quoted", "", "Best", "x", ""]
    return plain("\n".join(pattern[k % len(pattern)] for k in range(count)))


def empty_lines(size: int = 9 * 1024 * 1024) -> bytes:
    """An entry followed by ``size`` bytes of empty lines (4.7 million of them)."""
    return plain("Done today.\n" + "\r\n" * (size // 2))


def many_parts(size: int = 9 * 1024 * 1024) -> bytes:
    """A multipart of ``size`` bytes made of 260,000 tiny text parts."""
    part = b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return (HEAD + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
            + part * (size // len(part)) + b"--B--\r\n")


def long_line(chars: int = 100_000) -> bytes:
    """One line of ``chars`` characters with no break at all."""
    return plain(("word " * (chars // 5 + 1))[:chars])


def deep_mime(depth: int = 200) -> bytes:
    """``depth`` multiparts nested inside each other around one text part."""
    body = b"Content-Type: text/plain\r\n\r\nDone today.\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n--" + boundary
                + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n")
    return HEAD + b"MIME-Version: 1.0\r\n" + body


def huge(size: int = 9 * 1024 * 1024) -> bytes:
    """A message of ``size`` bytes: a short entry on top of a huge body of ordinary lines."""
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
    return plain("Today I mapped the pipeline.\n\n" + line * (size // len(line)))


def huge_html(size: int = 9 * 1024 * 1024) -> bytes:
    """An HTML-only message of ``size`` bytes of nested, unclosed markup."""
    html = "<div><p>Done</p>" + "<div><b>x</b> <i>y" * (size // 20) + "</div>"
    return (HEAD + b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + html.encode("utf-8"))


def huge_bounce(size: int = 9 * 1024 * 1024) -> bytes:
    """A delivery report from MAILER-DAEMON whose status part holds ``size`` bytes of fields."""
    fields = "Final-Recipient: rfc822; x@example.org\nAction: delayed\nStatus: 4.0.0\n\n"
    return (b"From: MAILER-DAEMON@example.org\r\nTo: cop@example.org\r\nSubject: Undelivered\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
            b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--B\r\n"
            b"Content-Type: message/delivery-status\r\n\r\n"
            + (fields * (size // len(fields))).encode() + b"\r\n--B--\r\n")


CASES: dict[str, Callable[[], bytes]] = {
    "20,000 short lines": many_lines,
    "one 100k-character line": long_line,
    "200-deep MIME": deep_mime,
    "9 MB message": huge,
    "9 MB HTML": huge_html,
    "9 MB delivery report": huge_bounce,
    "9 MB of empty lines": empty_lines,
    "260,000 MIME parts": many_parts,
}


def read(raw: bytes) -> str:
    """What the worker does with a reply's bytes: parse, classify, new text, intent."""
    msg = parse_message(raw)
    classify(msg)
    text = reply_text(msg)
    interpret("journal", text)
    return text


def timings() -> dict[str, float]:
    """Seconds each hostile case takes to read (building the bytes is not counted)."""
    out: dict[str, float] = {}
    for name, build in CASES.items():
        raw = build()
        start = time.perf_counter()
        read(raw)
        out[name] = round(time.perf_counter() - start, 3)
    return out
