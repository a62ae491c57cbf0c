"""The bytes of the simple messages simulated members send, written faster than the stdlib does.

``email``'s generator folds every header through ``email.header.Header`` and compiles a new
regular expression for each multipart boundary it makes; for a simulated member's reply that is
most of its cost (0.75 ms of about 1.3). ``flatten`` writes the same bytes as
``msg.as_bytes(policy=compat32.clone(linesep="\\r\\n"))`` for the messages the simulation builds
(text parts already encoded to ASCII, multiparts of them): a header that is short plain ASCII is
written as it is, anything else goes through the stdlib's own folding, and a message of any
other shape is handed to the stdlib whole. ``tests/test_simulate_mime.py`` compares both.

Replies and calendar answers are not even built as messages: a ``Part`` (headers and an
encoded body, or sub-parts) is written straight to those bytes by ``write``, and ``to_message``
gives the same message to the stdlib, for the tests to compare and for anyone reading it.
"""
from __future__ import annotations

import binascii
import email.policy
import random
import re
import sys
from email.message import Message

POLICY = email.policy.compat32.clone(linesep="\r\n")
NL = "\r\n"
LINES = re.compile(r"\r\n|\r|\n")  # the generator's own line split (email.generator.NLCRE)
MAX_LINE = 78  # compat32's max_line_length: a longer header is folded
ZEROS = str.maketrans("123456789", "000000000")
_folds: dict[tuple[str, str], tuple[int, ...]] = {}  # (name, value with its digits 0) -> its folded lines' lengths
_WIDTH = len(repr(sys.maxsize - 1))  # the generator's boundary: 15 "=", 19 digits, "=="


def text_part(text: str, subtype: str) -> Message:
    """What ``MIMEText(text, subtype, "utf-8")`` makes (UTF-8 in base64), without its charset
    machinery (a fifth of its cost)."""
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["MIME-Version"] = "1.0"
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(text_body(text))
    return part


Headers = list[tuple[str, object]]  # (name, value): a str, or an email.header.Header
# A message as the simulation writes it: its headers in order, and its body: the text of a part
# already encoded to ASCII, or the parts of a multipart (whose first header is its Content-Type,
# without the boundary: the writer chooses it, as the stdlib's generator does)
Part = tuple[Headers, "str | list[Part]"]


def text_body(text: str) -> str:
    """A text part's body as ``text_part`` encodes it (UTF-8 in base64, lines of 76 characters:
    57 bytes each, so the whole encoded at once and cut gives base64mime.body_encode's lines)."""
    whole = binascii.b2a_base64(text.encode("utf-8"), newline=False).decode("ascii")
    return "".join(f"{whole[at:at + 76]}\n" for at in range(0, len(whole), 76))


def text_leaf(text: str, subtype: str, *params: str) -> Part:
    """``text_part(text, subtype)`` as a ``Part``; ``params`` are added to its Content-Type."""
    kind = "; ".join((f'text/{subtype}; charset="utf-8"', *params))
    return [("Content-Type", kind), ("MIME-Version", "1.0"), ("Content-Transfer-Encoding", "base64")], text_body(text)


def write(part: Part) -> bytes:
    """``part``'s bytes: what ``flatten(to_message(part))`` writes, without building the message
    (``tests/test_simulate_mime.py`` compares them with the stdlib's)."""
    return _write(part).encode("ascii")


def to_message(part: Part) -> Message:
    """``part`` as an ``email.message.Message`` (for the stdlib to write, or to read)."""
    headers, body = part
    msg = Message()
    for name, value in headers:
        msg[name] = value
    if isinstance(body, str):
        msg.set_payload(body)
    else:
        for sub in body:
            msg.attach(to_message(sub))
    return msg


def _write(part: Part) -> str:
    headers, body = part
    if isinstance(body, str):
        text = body.replace("\n", NL) if "\r" not in body else NL.join(LINES.split(body))
    else:
        parts = [_write(sub) for sub in body]
        boundary = _boundary(parts)
        (name, kind), *rest = headers
        headers = [(name, f'{kind}; boundary="{boundary}"'), *rest]
        text = f"--{boundary}{NL}" + f"{NL}--{boundary}{NL}".join(parts) + f"{NL}--{boundary}--{NL}"
    return "".join(_header(name, value) for name, value in headers) + NL + text


class _Unusual(Exception):
    """A message this writer does not know how to write exactly as the stdlib does."""


def flatten(msg: Message) -> bytes:
    """``msg`` as bytes with CRLF line ends, exactly as the stdlib's compat32 generator writes it."""
    try:
        return _message(msg).encode("ascii")
    except (_Unusual, UnicodeError):
        return msg.as_bytes(policy=POLICY)


def _message(msg: Message) -> str:
    # The generator writes the body first (a multipart's boundary is set then), then the headers.
    if msg.preamble is not None or msg.epilogue is not None:
        raise _Unusual("preamble or epilogue")
    if msg.is_multipart():
        if not msg.get("Content-Type", "").lower().startswith("multipart/"):  # message/rfc822 and the like
            raise _Unusual("a message inside")
        body = _multipart(msg)
    else:
        payload = msg.get_payload()
        if not isinstance(payload, str) or not payload.isascii():
            raise _Unusual("a payload that is not encoded to ASCII")
        body = NL.join(LINES.split(payload))
    return "".join(_header(name, value) for name, value in msg.raw_items()) + NL + body


def _multipart(msg: Message) -> str:
    parts = [_message(part) for part in msg.get_payload()]
    content_type = msg.get("Content-Type", "")
    boundary = msg.get_boundary() if "boundary" in content_type.lower() else None
    if not boundary:
        boundary = _boundary(parts)
        if ";" in content_type or '"' in content_type or len(msg.get_all("Content-Type", ())) != 1:
            msg.set_boundary(boundary)
        else:  # what set_boundary writes for a type without parameters, without parsing it
            msg.replace_header("Content-Type", f'{content_type}; boundary="{boundary}"')
    return f"--{boundary}{NL}" + f"{NL}--{boundary}{NL}".join(parts) + f"{NL}--{boundary}--{NL}"


def _boundary(parts: list[str]) -> str:
    """A boundary like the generator's, that no line of the parts starts with."""
    base = "=" * 15 + f"{random.randrange(sys.maxsize):0{_WIDTH}d}" + "=="
    boundary, counter = base, 0
    while any(f"--{boundary}" in part for part in parts):
        boundary, counter = f"{base}.{counter}", counter + 1
    return boundary


def _header(name: str, value: object) -> str:
    if isinstance(value, str) and value.isascii() and "\r" not in value and "\n" not in value:
        if len(name) + 2 + len(value) <= MAX_LINE:
            return f"{name}: {value}{NL}"
        return _folded(name, value)
    return POLICY.fold_binary(name, value).decode("ascii")


def _folded(name: str, value: str) -> str:
    """An ASCII header folded as the stdlib folds it, the fold found once per shape of header.

    compat32 folds a plain ASCII value at its blanks, choosing among them by the length of the
    pieces and the character before each (``;``, ``,``, blank): a digit is none of those, so a
    value with other digits (a boundary, a time, a member's number) folds at the same places.
    """
    key = (name, value.translate(ZEROS))
    lengths = _folds.get(key)
    if lengths is None:
        lines = POLICY.fold_binary(name, key[1]).decode("ascii")[:-len(NL)].split(NL)
        if "".join(lines) != f"{name}: {key[1]}":  # the fold added a character: not a shape to reuse
            return POLICY.fold_binary(name, value).decode("ascii")
        if len(_folds) >= 4096:
            _folds.clear()
        lengths = _folds[key] = tuple(len(line) for line in lines)
    whole, at, lines = f"{name}: {value}", 0, []
    for length in lengths:
        lines.append(whole[at:at + length])
        at += length
    return NL.join(lines) + NL
