"""Reading header values: RFC 2047 encoded-words, raw UTF-8, Message-IDs, addresses, the sender.

Values come from compat32's ``raw_items()`` (never decoded by the parser itself, see
``inbound.message``); nothing here raises for hostile input.
"""
from __future__ import annotations

import binascii
import re
from email import base64mime, quoprimime
from email.header import decode_header, make_header
from email.utils import getaddresses

from mailer.outbound.addresses import canonical

_SURROGATE = re.compile("[\udc80-\udcff]")  # a raw 8-bit byte, as compat32 hands it back
_FOLD = re.compile(r"\r?\n[ \t]+")  # a folded header line's break (RFC 5322 2.2.3)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ONE_AT = re.compile(r"[^@\s]+@[^@\s]+")


def decode_header_value(value: object) -> str:
    """Decode RFC 2047 encoded-words leniently; never raises."""
    text = str(value) if value is not None else ""
    plain = text.isascii()  # then no raw 8-bit byte either
    if plain and "=?" not in text:
        return _unfold(text) if "\n" in text else text.strip()  # the common case: no regex when unfolded
    text = text if plain else _raw_8bit(text)
    if "=?" not in text:
        return _unfold(text)
    quick = encoded_words(text) if plain else None
    if quick is not None:
        return _unfold(quick)
    try:
        return _unfold(str(make_header(decode_header(text))))
    except Exception:  # noqa: BLE001 - hostile encoded-words: keep the raw text
        return _unfold(text)


# RFC 2047 encoded-words as ``email.header.decode_header`` finds them (its ``ecre``).
_ENCODED_WORD = re.compile(r"=\?([^?]*?)\?([qQbB])\?(.*?)\?=")
# Charsets read here rather than by email.header: each is its own codec and its own
# ``email.charset.Charset`` (two words whose Charsets compare equal are joined with a space).
QUICK_CHARSETS = frozenset({"utf-8", "iso-8859-1", "iso-8859-15", "windows-1252"})


def encoded_words(text: str) -> str | None:
    """``str(make_header(decode_header(text)))`` for ASCII ``text`` whose encoded-words are all
    in ``QUICK_CHARSETS``, in a few microseconds instead of ~27; None when the stdlib must read it
    (another charset, bad base64, bytes the charset cannot decode: then it raises or decides).

    The stdlib's quirks are kept (tests compare the two): each line's leading blanks go, blanks
    between two encoded-words go, plain runs are joined with a space, and a space is put between
    an encoded-word and plain text that do not already meet at a blank.
    """
    lines = text.splitlines()
    found = _found_words(lines)
    if found is None:
        return None
    if not any(encoding for _, encoding, _ in found) and (len(lines) == 1 or not _ENCODED_WORD.search(text)):
        return text  # decode_header's one plain chunk (a charset may span lines: ``[^?]`` takes line ends)
    chunks: list[tuple[str, str | None]] = []
    try:
        for data, charset in _collapse(_decoded(found)):
            chunks.append((data.decode(charset or "ascii"), charset))
    except ValueError:  # binascii.Error, UnicodeDecodeError: the stdlib raises
        return None
    return _join_chunks(chunks)


def _found_words(lines: list[str]) -> list[tuple[str, str | None, str | None]] | None:
    """(text, encoding or None for plain text, charset) of each word, as ``decode_header``
    cuts them; None when an encoded-word's charset is not quick."""
    found: list[tuple[str, str | None, str | None]] = []
    for line in lines:
        parts = _ENCODED_WORD.split(line)
        parts[0] = parts[0].lstrip()
        for at in range(0, len(parts) - 1, 4):
            if parts[at]:
                found.append((parts[at], None, None))
            charset = parts[at + 1].lower()
            if charset not in QUICK_CHARSETS:
                return None
            found.append((parts[at + 3], parts[at + 2].lower(), charset))
        if parts[-1]:
            found.append((parts[-1], None, None))
    return found


def _decoded(found: list[tuple[str, str | None, str | None]]) -> list[tuple[bytes, str | None]]:
    """Each word's bytes with its charset, blanks between two encoded-words left out (as
    ``decode_header`` does, whatever the middle word is). Raises binascii.Error."""
    last = len(found) - 1
    return [(_decode_word(word, encoding), charset) for n, (word, encoding, charset) in enumerate(found)
            if not (0 < n < last and found[n - 1][1] and found[n + 1][1] and word.isspace())]


# A Q-encoded word whose every "=" starts a hex escape: ``binascii.a2b_qp`` reads it as
# ``quoprimime.header_decode`` does (elsewhere a2b_qp drops a final "=" as a soft line break).
_PLAIN_Q = re.compile(r"(?:[^=]|=[0-9A-Fa-f]{2})*")


def _decode_word(word: str, encoding: str | None) -> bytes:
    """One word's bytes (ASCII text: its latin-1 is decode_header's raw-unicode-escape)."""
    if encoding == "q":
        if "=" not in word:
            return word.replace("_", " ").encode("ascii")
        if _PLAIN_Q.fullmatch(word):
            return binascii.a2b_qp(word.encode("ascii"), header=True)
        return quoprimime.header_decode(word).encode("latin-1")
    if encoding == "b":
        pad = len(word) % 4  # decode_header adds the missing padding
        return base64mime.decode(word + "==="[:4 - pad] if pad else word)
    return word.encode("ascii")


def _collapse(words: list[tuple[bytes, str | None]]) -> list[tuple[bytes, str | None]]:
    """Neighbouring words of one charset as one; plain ones joined with a space."""
    collapsed: list[tuple[bytes, str | None]] = []
    for word, charset in words:
        if collapsed and collapsed[-1][1] == charset:
            last = collapsed[-1][0]
            collapsed[-1] = (last + b" " + word if charset is None else last + word, charset)
        else:
            collapsed.append((word, charset))
    return collapsed


def _join_chunks(chunks: list[tuple[str, str | None]]) -> str:
    """``str(Header)``: a space between encoded and plain text unless one side has a blank
    (or a parenthesis or backslash: ``Header._nonctext``) where they meet."""
    out: list[str] = []
    last_charset: str | None = None
    last_blank: object = None
    for string, charset in chunks:
        if out:
            if last_charset is not None:
                if charset is None and not (string and _nonctext(string[0])):
                    out.append(" ")
            elif charset is not None and not last_blank:
                out.append(" ")
        last_blank = string and _nonctext(string[-1])
        last_charset = charset
        out.append(string)
    return "".join(out)


def _nonctext(char: str) -> bool:
    return char.isspace() or char in ("(", ")", "\\")


def _raw_8bit(text: str) -> str:
    """Raw UTF-8 in a header (RFC 6532, common in practice) arrives from compat32 as
    surrogate escapes; turn it back into text (Latin-1 when it is not UTF-8)."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _unfold(text: str) -> str:
    return _FOLD.sub(" ", text).strip()


def message_ids(value: str | None) -> list[str]:
    """The ``<…>`` ids in a Message-ID / In-Reply-To / References header, in order."""
    if not value:
        return []
    return _MESSAGE_ID.findall(value)


# Nearly every From and To is a bare address or "First Last <address>" in plain ASCII words;
# those are read with one regex instead of the stdlib's character-by-character address parser,
# giving what it gives (tests compare the two). Anything else (quotes, comments, dots or
# non-ASCII in the name, several addresses, groups) goes to the stdlib.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"(?:((?:{_ATOM} )*{_ATOM}) <)?({_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*)(?(1)>)")


def addresses(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of one address header, as ``email.utils.getaddresses``."""
    plain = _PLAIN_ADDRESS.fullmatch(value)
    if plain:
        return [(plain.group(1) or "", plain.group(2))]
    return getaddresses([value])


def read_sender(raw_from: list[str]) -> tuple[str, str, str | None]:
    """(address, display name, problem) of the raw, undecoded From headers.

    The address is what the standard parser finds before any RFC 2047 decoding: an encoded
    display name such as ``=?utf-8?q?Ann_=3Cap1=40corp=2Eexample=3E?=`` decodes to text that looks
    like an address, and must never become the sender. Two From headers, or one that does not
    hold exactly one address, name nobody: the address is empty and the problem says why.
    """
    if len(raw_from) != 1:
        return "", "", f"{len(raw_from)} From headers" if raw_from else "no From header"
    value = str(raw_from[0])
    value = _unfold(value) if "\n" in value else value.strip()  # no fold: no regex
    if "\r" in value:  # never from a parser (a CR ends a line there); getaddresses stops at it
        value = value.replace("\r", " ")
    found = [(name, address) for name, address in addresses(value) if name or address]
    if len(found) != 1 or not _ONE_AT.fullmatch(found[0][1]):
        return "", "", f"From does not hold exactly one address: {_raw_8bit(value)[:200]!r}"
    name, address = found[0]
    return canonical(_raw_8bit(address)), decode_header_value(name), None
