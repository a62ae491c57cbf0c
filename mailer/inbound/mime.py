"""MIME structure from raw bytes: the same ``compat32`` message tree as ``email.message_from_bytes``,
built faster for the regular mail that is nearly all of a day's replies.

The stdlib feed parser reads a message line by line in Python and compiles a fresh regular
expression for every multipart boundary; for a 5 KB Outlook reply that is most of the cost of
reading it. Regular mail (one kind of line ending, well-formed header blocks, every multipart
with its boundary lines and closing line, no ``message/*`` parts) is cut with string searches
instead, following the feed parser's rules: a header line is ``name: value`` plus continuation
lines, kept raw (``compat32.header_source_parse``); one line ending before a boundary line
belongs to the boundary. Anything else, down to one odd line, goes to the stdlib parser whole,
so hostile mail gets exactly the stdlib's tree and defects.
"""
from __future__ import annotations

import email
import email.policy
import re
from email.message import Message

_POLICY = email.policy.compat32
# str.splitlines (which the feed parser uses) also breaks lines at these; leave such mail to it.
_ODD_BREAKS = re.compile(rb"[\x0b\x0c\x1c-\x1e]")
_NAME = re.compile(r"[\041-\071\073-\176]+\Z")  # the feed parser's header-name characters
_MAX_DEPTH = 10


class _Irregular(Exception):
    """This message is not plainly regular: let the stdlib parser read it."""


def parse_bytes(raw: bytes) -> Message:
    """The ``compat32`` message tree of ``raw``, as ``email.message_from_bytes`` builds it."""
    try:
        return _fast(raw)
    except _Irregular:
        return email.message_from_bytes(raw, policy=_POLICY)


def _fast(raw: bytes) -> Message:
    crlf = raw.count(b"\r")
    if crlf and not crlf == raw.count(b"\r\n") == raw.count(b"\n"):
        raise _Irregular  # mixed or bare-CR line endings
    if _ODD_BREAKS.search(raw):
        raise _Irregular
    text = raw.decode("ascii", "surrogateescape")  # what BytesParser feeds its parser
    return _message(text, "\r\n" if crlf else "\n", depth=0)


def _message(text: str, nl: str, depth: int) -> Message:
    """One entity (the whole message, or a part of a multipart), with its sub-parts."""
    if depth > _MAX_DEPTH:
        raise _Irregular
    head, body = _split_head(text, nl)
    msg = Message(_POLICY)
    msg._headers = _headers(head, nl)  # noqa: SLF001 - what the feed parser's set_raw appends to
    maintype = msg.get_content_maintype()
    if maintype == "message":
        raise _Irregular  # attached messages and delivery reports: the stdlib's own rules
    if maintype == "multipart":
        msg.set_payload(_parts(msg, body, nl, depth))
    else:
        msg.set_payload(body)
    return msg


def _split_head(text: str, nl: str) -> tuple[str, str]:
    """(header lines, each with its line ending; body) split at the first empty line."""
    if text.startswith(nl):
        raise _Irregular  # no headers at all: rare, and the feed parser has its own view
    end = text.find(nl + nl)
    if end < 0:
        raise _Irregular  # headers running to the end, or a header block without a blank line
    return text[:end + len(nl)], text[end + 2 * len(nl):]


def _headers(head: str, nl: str) -> list[tuple[str, str]]:
    """``compat32`` raw headers: name, and value with its continuation lines (line ends kept)."""
    found: list[tuple[str, str]] = []
    lines = head.split(nl)[:-1]  # the block ends with a line ending
    index = 0
    while index < len(lines):
        line = lines[index]
        colon = line.find(":")
        if colon <= 0 or line.startswith("From ") or not _NAME.match(line, 0, colon):
            raise _Irregular  # a continuation first, a unix From line, or no header name
        value = [line[colon + 1:].lstrip(" \t")]
        index += 1
        while index < len(lines) and lines[index][:1] in (" ", "\t"):
            value.append(nl + lines[index])
            index += 1
        found.append((line[:colon], "".join(value).rstrip("\r\n")))
    return found


def _parts(msg: Message, body: str, nl: str, depth: int) -> list[Message]:
    """The parts between ``--boundary`` lines, each without the line ending the boundary owns."""
    boundary = msg.get_boundary()
    encoding = str(msg.get("content-transfer-encoding", "8bit")).lower()
    if not boundary or encoding not in ("7bit", "8bit", "binary") or msg.get_content_subtype() == "digest":
        raise _Irregular
    starts = _boundary_lines(body, "--" + boundary, nl)
    if len(starts) < 2 or not starts[-1][2]:
        raise _Irregular  # no part, or no closing boundary
    parts = []
    for (_, begin, _), (end, _, _) in zip(starts, starts[1:]):
        chunk = body[begin:end - len(nl)]
        if end - len(nl) < begin or not chunk:
            raise _Irregular  # an empty part
        parts.append(_message(chunk, nl, depth + 1))
    return parts


def _boundary_lines(body: str, separator: str, nl: str) -> list[tuple[int, int, bool]]:
    """(line start, start of what follows the line, closing?) for each boundary line, up to
    the closing one. A boundary line is the separator, maybe ``--``, maybe blanks, at line start."""
    found: list[tuple[int, int, bool]] = []
    position = 0 if body.startswith(separator) else body.find(nl + separator)
    if position > 0:
        position += len(nl)
    while position >= 0:
        line_end = body.find(nl, position)
        rest = body[position + len(separator):line_end if line_end >= 0 else len(body)]
        closing = rest.startswith("--")
        if not (rest[2:] if closing else rest).strip(" \t"):
            after = line_end + len(nl) if line_end >= 0 else len(body)
            found.append((position, after, closing))
            if closing:
                break
        nxt = body.find(nl + separator, position + 1)
        position = nxt + len(nl) if nxt >= 0 else -1
    return found
