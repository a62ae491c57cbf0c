"""Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets a second one inside DATA.

``smtp_imap.dot_stuff`` does it with ``bytes.replace`` (a regular expression cost ~100x more
per email, under the interpreter lock the composing thread needs); these tests hold it to the
regular expression smtplib uses, and send such lines through a real server.
"""
from __future__ import annotations

import random
import re

import pytest

from mailer.transports.smtp_imap import dot_stuff
from tests.transports.test_smtp_imap import open_transport, outgoing, users  # noqa: F401 - fixtures

SMTPLIB_QUOTING = re.compile(rb"(?m)^\.")  # smtplib._quote_periods


def by_regex(data: bytes) -> bytes:
    body = SMTPLIB_QUOTING.sub(b"..", data)
    return (body if body.endswith(b"\r\n") else body + b"\r\n") + b".\r\n"


@pytest.mark.parametrize("data", [b"", b".", b"..", b".\r\n", b"a\r\n.\r\nb", b"a\r\n..b\r\n", b"a\n.b",
                                  b"\r\n.", b"a\r.b", b".a\r\n.b\r\n.\r\n", b"x" * 100 + b"\r\n...\r\n"])
def test_dots_are_doubled_as_smtplib_doubles_them(data):
    assert dot_stuff(data) == by_regex(data)


def test_random_lines_are_stuffed_as_smtplib_stuffs_them():
    rng = random.Random(25)
    for _ in range(3000):
        data = bytes(rng.choice(b".\r\nab") for _ in range(rng.randrange(0, 40)))
        assert dot_stuff(data) == by_regex(data), data


@pytest.mark.rig
def test_lines_starting_with_dots_arrive_as_written(mail_rig, users, open_transport):  # noqa: F811
    body = ".first line\r\n..two dots\r\n.\r\nmiddle\r\n...\r\n. a dot and a space"
    mail = outgoing(users["mailer"], users["alice"], body=body)
    open_transport(users["mailer"]).send(mail)
    (fetched,) = list(open_transport(users["alice"]).fetch())
    assert fetched.raw.endswith(mail.data)
