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

import binascii
import email
import email.policy
import email.utils
import functools
import quopri
import re
from email import _encoded_words  # noqa: PLC2701 - get_payload's own base64 reading (decode_b)
from email.message import Message

_POLICY = email.policy.compat32
# str.splitlines (which the feed parser uses) also breaks lines at these; leave such mail to it.
_ODD_BREAKS = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")
_NAME = r"[\041-\071\073-\176]+"  # the feed parser's header-name characters (no colon)
# A header field: a "name:" line and its continuation lines (starting with a blank).
_FIELD = {nl: re.compile(rf"({_NAME}):[ \t]*([^\r\n]*(?:{nl}[ \t][^\r\n]*)*){nl}") for nl in ("\r\n", "\n")}
_MAX_DEPTH = 10
# A Content-Type value whose parameters read plainly (see ``content_type``).
_PLAIN_VALUE = re.compile(r'[^\\*\udc80-\udcff]*')


class _Irregular(Exception):
    """This message is not plainly regular: let the stdlib parser read it."""


class _Part(Message):
    """A compat32 Message the quick path built, keeping its ``content_type`` as read while
    building it (the readers of a parsed message never change its headers)."""

    plain_type: tuple[str, dict[str, str]]


def content_type(part: Message) -> tuple[str, dict[str, str]] | None:
    """(type, parameters) of ``part`` as ``get_content_type`` and ``get_param`` read them, when
    its Content-Type is plain; None when it is not, and the stdlib's getters must decide. The
    parameters are shared between parts with the same header: read them, never change them.

    Each getter walks the headers and re-parses the value (a reply's three parts cost more
    in them than in cutting the message). Plain: no backslash, no RFC 2231 star, no raw 8-bit
    byte, and no ``;`` inside quotes, so that splitting at ``;`` is the stdlib's own split
    (``email.message._parseparam``); each value is unquoted once, as ``get_param`` gives it.
    """
    if type(part) is _Part:
        return part.plain_type
    return _read_type(part)


def _read_type(part: Message) -> tuple[str, dict[str, str]] | None:
    value = first_header(part, "content-type")
    if value is None:
        return part.get_default_type(), {}
    if not isinstance(value, str):
        return None
    return _plain_content_type(value)


@functools.lru_cache(maxsize=256)
def _plain_content_type(value: str) -> tuple[str, dict[str, str]] | None:
    """``content_type`` of a header value (the same value recurs: "text/plain; charset=utf-8")."""
    if not _PLAIN_VALUE.fullmatch(value):
        return None
    pieces = value.split(";")
    if any(piece.count('"') % 2 for piece in pieces):
        return None
    ctype = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces:  # the type itself is the first "parameter" get_param looks at
        name, _, found = piece.partition("=")
        params.setdefault(name.strip().lower(), email.utils.unquote(found.strip()))
    return (ctype if ctype.count("/") == 1 else "text/plain"), params


def charset_of(params: dict[str, str]) -> str | None:
    """The charset parameter as ``get_content_charset`` gives it: lower case, ASCII or None."""
    charset = params.get("charset")
    return charset.lower() if charset is not None and charset.isascii() else None


def first_header(part: Message, name: str) -> object:
    """The raw value of the first header called ``name`` (lower case, ASCII), or None."""
    size = len(name)  # a length test first: most names differ in length (lower() keeps it here)
    for key, value in part._headers:  # noqa: SLF001 - what ``Message.get`` reads, without its policy call
        if len(key) == size and key.lower() == name:
            return value
    return None


def header_text(part: Message, name: str) -> str:
    """``str(part.get(name, ""))``: the raw value when plain ASCII (compat32 returns it as it
    is), else what the policy makes of it (a Header for raw 8-bit bytes)."""
    value = first_header(part, name)
    if value is None:
        return ""
    return value if type(value) is str and value.isascii() else str(part.get(name, ""))


def parse_bytes(raw: bytes) -> Message:
    """The ``compat32`` message tree of ``raw``, as ``email.message_from_bytes`` builds it."""
    try:
        return _fast(raw)
    except _Irregular:
        return email.message_from_bytes(raw, policy=_POLICY)


def _fast(raw: bytes) -> Message:
    # CRLF mail when there is a CR at all. A lone CR or LF only matters where it ends a line the
    # stdlib reads differently from us: in a header block (_FIELD wants ``nl`` after every line)
    # or beside a boundary (_boundary_lines checks that every separator is a line it read).
    # Anywhere else it is text, kept as it is either way.
    if b"\x0b" in raw or b"\x0c" in raw or b"\x1c" in raw or b"\x1d" in raw or b"\x1e" in raw:
        raise _Irregular  # _ODD_BREAKS, a byte search each: faster than one regex, or than any()
    text = raw.decode("ascii", "surrogateescape")  # what BytesParser feeds its parser
    return _message(text, "\r\n" if b"\r" in raw else "\n", depth=0)


def _message(text: str, nl: str, depth: int) -> Message:
    """One entity (the whole message, or a part of a multipart), with its sub-parts."""
    if depth > _MAX_DEPTH:
        raise _Irregular
    head, body = _split_head(text, nl)
    msg = _Part(_POLICY)
    msg._headers = _headers(head, nl)  # noqa: SLF001 - what the feed parser's set_raw appends to
    found = _read_type(msg)
    if found is None:
        raise _Irregular  # a Content-Type whose parameters need the stdlib's reading
    msg.plain_type = found
    ctype, params = found
    if ctype.startswith("message/"):  # the type has one "/" (_plain_content_type)
        raise _Irregular  # attached messages and delivery reports: the stdlib's own rules
    # What set_payload(payload) does with no charset, without its checks.
    if ctype.startswith("multipart/"):
        msg._payload = _parts(msg, ctype, params, body, nl, depth)  # noqa: SLF001
    else:
        msg._payload = body  # noqa: SLF001
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
    """``compat32`` raw headers: name, and value with its continuation lines (line ends kept).

    ``compat32.header_source_parse`` drops the blanks after the colon and the last line end;
    the feed parser's header names are printable ASCII without the colon. One regex pass
    instead of a Python loop per line: the block is regular when nothing lies between fields.
    """
    pieces = _FIELD[nl].split(head)  # [gap, name, value, gap, name, value, ..., gap]
    if any(pieces[::3]):
        raise _Irregular  # a continuation first, a unix From line, or a line with no header name
    return list(zip(pieces[1::3], pieces[2::3]))


def _parts(msg: Message, ctype: str, params: dict[str, str], body: str, nl: str, depth: int) -> list[Message]:
    """The parts between ``--boundary`` lines, each without the line ending the boundary owns."""
    # get_boundary unquotes the parameter once more (email.utils.collapse_rfc2231_value).
    boundary = email.utils.unquote(params["boundary"]).rstrip() if "boundary" in params else None
    encoding = first_header(msg, "content-transfer-encoding")
    encoding = "8bit" if encoding is None else str(encoding).lower()
    if not boundary or encoding not in ("7bit", "8bit", "binary") or ctype.split("/")[1] == "digest":
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
    if body.count(separator) != len(found):
        # One more: maybe a boundary line the stdlib sees and we do not (after a lone CR or
        # LF in CRLF mail), maybe text: let the stdlib decide.
        raise _Irregular
    return found


def decoded_payload(part: Message) -> bytes | None:
    """``part.get_payload(decode=True)``, read directly where ``payload_bytes`` can."""
    data = payload_bytes(part)
    return part.get_payload(decode=True) if data is None else data


# Content-Transfer-Encodings whose decoding ``payload_bytes`` does not repeat.
_UU = ("x-uuencode", "uuencode", "uue", "x-uue")


def payload_bytes(part: Message) -> bytes | None:
    """``part.get_payload(decode=True)`` for a leaf whose payload is a str, read without the
    stdlib's header and policy calls; None when the stdlib must decode it (a multipart, a
    non-ASCII or bytes payload, a Content-Transfer-Encoding with surrogates, uuencode).

    As get_payload: the encoding is the first header's raw value, lower case (``base64 ``
    with a blank is not base64: the bytes come back as they are); base64 lines are joined and
    read strictly, and only when that fails does ``email._encoded_words.decode_b`` (the
    stdlib's own lenient reading) decide, recording its defects on the part.
    """
    payload = part._payload  # noqa: SLF001 - what get_payload reads
    if type(payload) is not str:
        return None
    cte = first_header(part, "content-transfer-encoding")
    if cte is None:
        cte = ""
    elif type(cte) is not str or not cte.isascii():
        return None
    else:
        cte = cte.lower()
    try:
        data = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return None
    if cte == "base64":
        return _base64(part, b"".join(data.splitlines()))
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return None if cte in _UU else data


def _base64(part: Message, joined: bytes) -> bytes:
    if not len(joined) % 4:
        try:  # what decode_b tries first, with nothing to pad
            return binascii.a2b_base64(joined, strict_mode=True)
        except binascii.Error:
            pass
    value, defects = _encoded_words.decode_b(joined)
    for defect in defects:
        part.policy.handle_defect(part, defect)
    return value
