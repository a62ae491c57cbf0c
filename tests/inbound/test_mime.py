"""``mime.parse_bytes`` builds exactly the tree ``email.message_from_bytes`` (compat32) builds."""
from __future__ import annotations

import email
import email.policy
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailer.inbound import mime
from mailer.simulation.replies import CLIENTS, compose_reply

SAMPLES = sorted((Path(__file__).parent / "samples").glob("*.eml"))
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)
ORIGINAL = (b"From: Community <cop@example.test>\r\nTo: Ana <ana@corp.example.com>\r\n"
            b"Reply-To: cop+abcdefghijklmnopqrst@example.test\r\nSubject: Day 1 of 30\r\n"
            b"Message-ID: <day1@example.test>\r\nDate: Mon, 04 Jan 2027 08:00:00 +0000\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Ana,\r\n\r\nMap your pipeline.\r\n")


def tree(msg) -> list[tuple]:
    """Everything a reader of the tree sees: headers, types, raw payloads, defects, per part."""
    return [(list(part.raw_items()), part.get_content_type(), part.is_multipart(),
             None if part.is_multipart() else part._payload, [type(d).__name__ for d in part.defects])
            for part in msg.walk()]


def stdlib(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def replies() -> list[bytes]:
    """What Outlook, Gmail and Apple Mail send back, in CRLF and (as some servers store) LF."""
    texts = ("Done!\n\nBest regards,\nAna", "Pause bitte\n\n-- \nAna Müller", "今日はパイプラインを図にしました。")
    out = [compose_reply(ORIGINAL, "ana@corp.example.com", "Ana Müller", t, c, NOW) for c in CLIENTS for t in texts]
    return out + [r.replace(b"\r\n", b"\n") for r in out]


@pytest.mark.parametrize("raw", replies())
def test_client_replies_take_the_quick_way_and_give_the_same_tree(raw):
    assert tree(mime._fast(raw)) == tree(stdlib(raw))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_real_samples_give_the_same_tree(path):
    raw = path.read_bytes()
    assert tree(mime.parse_bytes(raw)) == tree(stdlib(raw))


@pytest.mark.parametrize("raw", [
    b"From: a@b\r\nSubject: mixed\nContent-Type: text/plain\r\n\r\nbody\r\n",  # mixed line endings
    b"From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nno close\r\n",
    b"From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nFrom: c@d\n\nhi\n--x--\n",
    b" continued: first\r\nFrom: a@b\r\n\r\nbody\r\n",
    b"From: a@b\r\nno colon here\r\n\r\nbody\r\n",
    b"From: a@b\r\nSubject: form\x0cfeed\r\n\r\nbody\r\n",
    b"From: a@b\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\nno boundary parameter\r\n--x--\r\n",
])
def test_irregular_mail_is_left_to_the_stdlib(raw):
    with pytest.raises(mime._Irregular):
        mime._fast(raw)
    assert tree(mime.parse_bytes(raw)) == tree(stdlib(raw))


def mutate(rng: random.Random, raw: bytes) -> bytes:
    """Insert, delete or cut at random, favouring what MIME structure is made of."""
    pieces = (b"\r\n", b"\n", b"--", b" ", b"\t", b":", b"\r\n\r\n", b"\x00", b"\xff", b"From ",
              b"Content-Type: multipart/mixed; boundary=x\r\n", b"--x\r\n", b"--x--\r\n", b"message/rfc822")
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        at, roll = rng.randrange(len(data) + 1), rng.random()
        if roll < 0.45:
            data[at:at] = rng.choice(pieces)
        elif roll < 0.75:
            del data[at:at + rng.randint(1, 20)]
        elif roll < 0.9:
            line = data.find(b"\n--", at)
            if line >= 0:
                del data[line:line + rng.randint(1, 60)]
        else:
            del data[at:]
    return bytes(data)


def test_mutated_mail_gives_the_same_tree_whichever_way_it_is_read():
    rng = random.Random(14)
    seeds = replies() + [p.read_bytes() for p in SAMPLES]
    quick = 0
    for _ in range(3000):
        raw = mutate(rng, rng.choice(seeds))
        try:
            ours = mime._fast(raw)
        except mime._Irregular:
            continue
        quick += 1
        assert tree(ours) == tree(stdlib(raw)), raw
    assert quick > 500  # the comparison covered many cut quickly, not only the fallback


def content_type_values(rng: random.Random) -> list[str]:
    """Content-Type values as clients write them, and random mixes of what parameters are made of."""
    known = ["text/plain", "text/plain; charset=utf-8", 'text/plain; charset="UTF-8"; format=flowed',
             'multipart/alternative;\r\n\tboundary="----=_Part_1_2.3"', "multipart/mixed; boundary=x; boundary=y",
             "text/html; charset=iso-8859-1;", 'text/calendar; method=REPLY; charset="utf-8"',
             "application/pdf; name=\"a;b.pdf\"", "text/plain; charset*=utf-8''x", "TEXT/Plain ; CHARSET = Latin1",
             "text", "text/plain/x; charset=x", "", "; charset=x", 'text/plain; charset="é"', "text/plain; charset=<x>",
             'text/plain; charset=\\"x\\"', "text/plain; charset", "text/plain; =x", 'a/b; c="d"e"; f=g']
    atoms = ["text", "/", "plain", "multipart", "mixed", ";", " ", "\t", "\r\n\t", "=", '"', "'", "charset", "CharSet",
             "boundary", "utf-8", "x", "<", ">", "é", "*", "\\", "name", "method", "--=_a", ","]
    return known + ["".join(rng.choice(atoms) for _ in range(rng.randint(0, 14))) for _ in range(20000)]


def test_a_plain_content_type_reads_as_the_stdlib_getters_read_it():
    rng = random.Random(25)
    read = 0
    for value in content_type_values(rng):
        msg = email.message.Message()
        msg["Content-Type"] = value
        found = mime.content_type(msg)
        if found is None:
            continue
        read += 1
        ctype, params = found
        assert ctype == msg.get_content_type(), value
        assert mime.charset_of(params) == msg.get_content_charset(), value
        for name in ("boundary", "method", "name", "format", ""):
            assert params.get(name) == msg.get_param(name), (value, name)
    assert read > 5000
    missing = email.message.Message()
    assert mime.content_type(missing) == ("text/plain", {})
