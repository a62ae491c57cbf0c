"""Reading header values: RFC 2047 encoded-words, raw UTF-8, Message-IDs, addresses, the sender.

Values come from compat32's ``raw_items()`` (never decoded by the parser itself, see
``inbound.message``); nothing here raises for hostile input.
"""
from __future__ import annotations

import re
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
    try:
        return _unfold(str(make_header(decode_header(text))))
    except Exception:  # noqa: BLE001 - hostile encoded-words: keep the raw text
        return _unfold(text)


def _raw_8bit(text: str) -> str:
    """Raw UTF-8 in a header (RFC 6532, common in practice) arrives from compat32 as
    surrogate escapes; turn it back into text (Latin-1 when it is not UTF-8)."""
    if not _SURROGATE.search(text):
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
    value = _unfold(str(raw_from[0]))
    found = [(name, address) for name, address in addresses(value) if name or address]
    if len(found) != 1 or not _ONE_AT.fullmatch(found[0][1]):
        return "", "", f"From does not hold exactly one address: {_raw_8bit(value)[:200]!r}"
    name, address = found[0]
    return canonical(_raw_8bit(address)), decode_header_value(name), None
