"""``parse_message`` gives the record the stdlib gives, field for field, however the mail is made.

The quick paths (``mime.parse_bytes``'s own cutting, ``mime.payload_bytes`` instead of
``get_payload(decode=True)``, ``headers.encoded_words`` instead of ``make_header(decode_header())``)
are switched off for the reference reading, which is then ``email.message_from_bytes`` with the
stdlib's decoding. Compared: every field, the files' bytes, the HTML (read last, as its defects
are recorded when it is read) and the header index.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import email
import email.policy
import importlib
import quopri
import random
from contextlib import contextmanager
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from bench.replies import DEFAULT_CORPUS
from mailer.inbound import headers, message, mime
from mailer.inbound.message import parse_message
from tests.inbound import test_mime

SNAPSHOT = Path("/tmp/ib/snapshot-2000/replies/new")  # bench.inbound's replies, when a bench has run
# Test modules whose raw messages (module constants, parametrize lists) are read here too.
TEST_MODULES = ("tests.inbound.test_message", "tests.inbound.test_mime", "tests.inbound.test_lazy_html",
                "tests.inbound.test_calendar_reply", "tests.inbound.test_classify", "tests.inbound.test_reply",
                "tests.inbound.test_classify_verdicts", "tests.inbound.test_history", "tests.test_routing")


@contextmanager
def stdlib_reading():
    """parse_message with every quick path off: the stdlib's tree, payloads and header words."""
    saved = (message.parse_bytes, mime.payload_bytes, headers.encoded_words)
    message.parse_bytes = lambda raw: email.message_from_bytes(raw, policy=email.policy.compat32)
    mime.payload_bytes = lambda part: None
    headers.encoded_words = lambda text: None
    try:
        yield
    finally:
        message.parse_bytes, mime.payload_bytes, headers.encoded_words = saved


def record(parsed) -> dict:
    """Every field of a ParsedMessage, the HTML read first (reading it may add defects)."""
    html = parsed.html
    fields = {f.name: getattr(parsed, f.name) for f in dataclasses.fields(parsed) if not f.name.startswith("_")}
    fields["html"] = html
    fields["files"] = [(f.filename, f.mime_type, f.data, f.content_id, f.inline) for f in parsed.files]
    fields["firsts"] = list(parsed.firsts().items())
    return fields


def stdlib_record(raw: bytes) -> dict:
    with stdlib_reading():
        return record(parse_message(raw))


def assert_same(raw: bytes) -> None:
    assert record(parse_message(raw)) == stdlib_record(raw), raw[:300]


def corpus_files() -> list[Path]:
    return sorted(DEFAULT_CORPUS.rglob("*.eml")) if DEFAULT_CORPUS.is_dir() else []


@pytest.mark.skipif(not corpus_files(), reason="the shared corpus is not on this machine")
def test_the_corpus_reads_the_same():
    for path in corpus_files():
        assert_same(path.read_bytes())


def test_the_samples_and_client_replies_read_the_same():
    for raw in test_mime.replies() + [path.read_bytes() for path in test_mime.SAMPLES]:
        assert_same(raw)


@pytest.mark.skipif(not SNAPSHOT.is_dir(), reason="no bench snapshot (python -m bench.inbound --workdir /tmp/ib)")
def test_the_bench_snapshot_reads_the_same():
    for path in sorted(SNAPSHOT.iterdir())[:2000]:
        assert_same(path.read_bytes())


def raw_messages_in(value, depth: int = 0) -> list[bytes]:
    """Raw messages inside a test constant or parametrize list (bytes with a header line)."""
    if isinstance(value, bytes):
        return [value] if b":" in value[:200] else []
    if isinstance(value, (list, tuple)) and depth < 2:
        return [raw for item in value for raw in raw_messages_in(item, depth + 1)]
    return []


def gathered_messages() -> list[bytes]:
    found: list[bytes] = []
    for name in TEST_MODULES:
        for value in vars(importlib.import_module(name)).values():
            found += raw_messages_in(value)
            for mark in getattr(value, "pytestmark", []):
                if mark.name == "parametrize" and len(mark.args) > 1:
                    found += raw_messages_in(list(mark.args[1]))
    return found


def test_the_test_suites_messages_read_the_same():
    found = gathered_messages()
    assert len(found) > 20  # the gathering found the suite's messages
    for raw in found:
        assert_same(raw)


# Generated mail: what the quick paths decide, every way it can go.
NAMES = ["Ann Lee", "Chloé Martin", "María González", "Łukasz", "日本 太郎", "O'Brien (ops)", "a\\b", "  "]
CHARSETS = ["utf-8", "UTF-8", "iso-8859-1", "windows-1252", "iso-8859-15", "us-ascii", "utf8", "koi8-r",
            "x-unknown", "", "unknown-8bit"]


def encoded_word(rng: random.Random, text: str) -> str:
    """An RFC 2047 word for ``text``, sometimes broken (padding, stray "=", bytes the charset lacks)."""
    charset = rng.choice(CHARSETS)
    try:
        data = text.encode(charset or "utf-8")
    except (LookupError, UnicodeEncodeError):
        data = text.encode("utf-8")
    if rng.random() < 0.5:
        body = "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}" for b in data)
        body += rng.choice(["", "", "", "=", "=4", "==41", "=g1", "?"])
        return f"=?{charset}?{rng.choice('qQ')}?{body}?="
    body = base64.b64encode(data).decode()
    body = rng.choice([body, body, body.rstrip("="), body[:-1] + "!", body + "A", body[:-2]])
    return f"=?{charset}?{rng.choice('bB')}?{body}?="


def header_text(rng: random.Random) -> str:
    """Encoded and plain words with the spacing clients (and attackers) put between them."""
    pieces = []
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(NAMES)
        pieces.append(encoded_word(rng, name) if rng.random() < 0.7 else rng.choice(["Re:", "Ann", "(x)", ""]))
        pieces.append(rng.choice([" ", "", "  ", "\r\n ", "\r\n\t", "\t", " x ", "(", ")", "\\", "=?", "?="]))
    return ("" if rng.random() < 0.8 else " ") + "".join(pieces).rstrip("\r\n\t ")


def test_encoded_words_read_as_the_stdlib_reads_them():
    rng = random.Random(2047)
    quick = 0
    for _ in range(20_000):
        text = header_text(rng)
        ours = headers.encoded_words(text) if text.isascii() else None
        if ours is None:
            continue  # left to the stdlib
        quick += 1
        assert ours == str(make_header(decode_header(text))), text
    assert quick > 5_000


def test_a_blank_encoded_word_between_two_others_is_dropped_as_the_stdlib_drops_it():
    text = "=?utf-8?q?a?==?utf-8?q?  ?==?utf-8?q?b?= =?utf-8?q?c?="
    assert headers.encoded_words(text) == str(make_header(decode_header(text))) == "abc"


BODY = "Mapped our pipeline today: seven stages.\n\nBest regards,\nChloé\n\x00end"


def transfer_encoded(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body lines) of ``data``, sometimes broken or oddly named."""
    kind = rng.choice(["base64", "base64", "Base64", "base64 ", "quoted-printable", "7bit", "8bit", "", "x-uuencode"])
    if kind.strip().lower() == "base64":
        text = base64.encodebytes(data)
        text = rng.choice([text, text, text.replace(b"=", b""), text[:-3] + b"\n", b"!" + text, text[:-2] + b"A\n",
                           text.replace(b"\n", b"\r\n"), b"A" + text])
        return kind, text
    if kind == "quoted-printable":
        text = quopri.encodestring(data)
        return kind, rng.choice([text, text + b"=", text.replace(b"=", b"=\n", 1), text + b"=G1"])
    return kind, data.replace(b"\x00", b"")


def generated_message(rng: random.Random) -> bytes:
    charset = rng.choice(["utf-8", "iso-8859-1", "x-unknown", None, '"UTF-8"', "utf-8\udcff"])
    try:
        data = BODY.encode((charset or "utf-8").strip('"'))
    except (LookupError, UnicodeEncodeError):
        data = BODY.encode("utf-8")
    parts = []
    for ctype in rng.sample(["text/plain", "text/html", "text/calendar", "application/pdf"], rng.randint(1, 3)):
        cte, body = transfer_encoded(rng, data if ctype != "text/html" else b"<p>" + data + b"</p>")
        head = f"Content-Type: {ctype}" + (f"; charset={charset}" if charset else "") + "\r\n"
        head += f"Content-Transfer-Encoding: {cte}\r\n" if cte else ""
        head += 'Content-Disposition: attachment; filename="a.pdf"\r\n' if ctype == "application/pdf" else ""
        parts.append(head.encode("utf-8", "surrogateescape") + b"\r\n" + body.rstrip(b"\r\n") + b"\r\n")
    top = (f"From: {header_text(rng)} <ann@corp.example.com>\r\nTo: cop+abc@example.test\r\n"
           f"Subject: {header_text(rng)}\r\nMessage-ID: <m{rng.randrange(10**6)}@x>\r\n").encode()
    if len(parts) == 1 and rng.random() < 0.5:
        return top + parts[0]
    return (top + b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
            + b"".join(b"--b1\r\n" + part for part in parts) + b"--b1--\r\n")


def test_generated_and_mutated_mail_reads_the_same():
    rng = random.Random(25)
    seeds = test_mime.replies()
    for n in range(3_000):
        raw = generated_message(rng)
        if n % 3 == 0:
            raw = test_mime.mutate(rng, raw if n % 2 else rng.choice(seeds))
        assert_same(raw)


def leaf(cte: str | None, body: str) -> email.message.Message:
    head = "Content-Type: text/plain\n" + (f"Content-Transfer-Encoding: {cte}\n" if cte is not None else "")
    return mime.parse_bytes((head + "\n" + body).encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("cte, body", [
    ("base64", "aGVsbG8="), ("base64", "aGVsbG8"), ("base64", "aGVs!bG8="), ("base64", "aGVsb"), ("base64", "a"),
    ("BASE64", "aGVs\nbG8=\n"), ("base64 ", "aGVsbG8="), ("quoted-printable", "caf=C3=A9=\nx="),
    ("x-uuencode", "begin 644 a\n#86)C\n`\nend\n"), (None, "plain"), ("7bit", "caf\udce9"), ("base64", ""),
])
def test_payload_bytes_is_get_payload(cte, body):
    ours, theirs = leaf(cte, body), leaf(cte, body)
    quick = mime.payload_bytes(ours)
    if quick is None:
        assert cte is not None and cte.lower().strip() == "x-uuencode"
        return
    assert quick == theirs.get_payload(decode=True)
    assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]


def test_broken_base64_is_read_leniently_with_the_stdlibs_defects():
    part, same = leaf("base64", "aGVs!bG8"), leaf("base64", "aGVs!bG8")
    with pytest.raises(binascii.Error):
        binascii.a2b_base64(b"aGVs!bG8", strict_mode=True)  # so the quick strict reading gives way
    assert mime.payload_bytes(part) == same.get_payload(decode=True) == b"hello"
    assert [type(d).__name__ for d in part.defects] == [type(d).__name__ for d in same.defects]
    assert "InvalidBase64CharactersDefect" in [type(d).__name__ for d in part.defects]
