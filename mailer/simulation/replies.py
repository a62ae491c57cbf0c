"""What a person's mail client sends when they press Reply: for trying cop-mailer by hand.

``compose_reply`` writes the reply Outlook, Gmail or Apple Mail would write to one of our
emails: the person's text on top, the client's own quote header, and the quoted original, with
In-Reply-To/References and the address the original asked replies to go to.
"""
from __future__ import annotations

import functools
import textwrap
from datetime import datetime
from email.header import Header
from email.message import Message
from email.utils import format_datetime, formataddr, parseaddr
from html import escape

from mailer.inbound.message import parse_message
from mailer.outbound.envelope import new_message_id
from mailer.outbound.subject import strip_prefixes
from mailer.simulation.mime import Headers, Part, text_leaf, to_message, write

CLIENTS = ("outlook", "gmail", "apple")
# Shapes that hide the quote from a reader that knows only the usual markers: Horde IMP's
# "Quoting Name <address>:" above ">" lines; the same attribution over the original left
# unquoted (a client set not to prefix quotes); the original pasted below with no attribution.
OTHER_CLIENTS = ("horde", "horde-unquoted", "pasted")


def compose_reply(original: bytes, sender: str, sender_name: str, text: str, client: str,
                  now: datetime) -> bytes:
    """The bytes of ``sender``'s reply to ``original`` as ``client`` would send them."""
    return write(_reply(original, sender, sender_name, text, client, now))


def reply_message(original: bytes, sender: str, sender_name: str, text: str, client: str,
                  now: datetime) -> Message:
    """``compose_reply``'s message, before it is written out as bytes."""
    return to_message(_reply(original, sender, sender_name, text, client, now))


def _reply(original: bytes, sender: str, sender_name: str, text: str, client: str,
           now: datetime) -> Part:
    """The reply: its headers, and its plain text and HTML."""
    orig = parse_message(original)
    reply_to = orig.header("Reply-To") or orig.header("From") or ""
    their_name, their_addr = _address(orig.header("From") or "")
    quoted_text = (orig.text or "").rstrip("\n")
    header, plain = _quote(client, orig, their_name, their_addr, quoted_text, sender, sender_name)
    texts = [text_leaf(f"{text}\n\n{plain}\n", "plain"), text_leaf(_html(client, text, header, quoted_text), "html")]
    prefix = "RE: " if client == "outlook" else "Re: "
    subject = prefix + strip_prefixes(orig.subject)
    # compat32 messages need non-ASCII header text wrapped, or as_bytes() refuses it
    headers: Headers = [("Content-Type", "multipart/alternative"), ("MIME-Version", "1.0"),
                        ("From", formataddr((sender_name, sender), charset="utf-8")), ("To", reply_to),
                        ("Subject", subject if subject.isascii() else Header(subject, "utf-8")),
                        ("Date", format_datetime(now)),
                        ("Message-ID", new_message_id(sender.partition("@")[2] or "example.test"))]
    if orig.message_id:
        headers += [("In-Reply-To", orig.message_id), ("References", " ".join([*orig.references, orig.message_id]))]
    return headers, texts


@functools.lru_cache(maxsize=256)
def _address(value: str) -> tuple[str, str]:
    """``parseaddr``, once per From header: ours is the same on every email."""
    return parseaddr(value)


def _quote(client: str, orig, their_name: str, their_addr: str, quoted: str, sender: str,
           sender_name: str) -> tuple[str, str]:
    sent = orig.header("Date") or ""
    if client in OTHER_CLIENTS:
        return _other_quote(client, their_name, their_addr, quoted)
    if client == "outlook":
        header = (f"From: {their_name} <{their_addr}>\nSent: {sent}\n"
                  f"To: {sender_name} <{sender}>\nSubject: {orig.subject}")
        return header, f"________________________________\n{header}\n\n{quoted}"
    quoted_lines = "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines())
    if client == "gmail":
        header = f"On {sent}, {their_name} <{their_addr}> wrote:"
        return header, f"{header}\n\n{quoted_lines}"
    header = f"On {sent}, {their_name} <{their_addr}> wrote:"
    return header, f"{header}\n\n{quoted_lines}"


def _other_quote(client: str, their_name: str, their_addr: str, quoted: str) -> tuple[str, str]:
    if client == "pasted":
        return "", quoted
    header = f"Quoting {their_name} <{their_addr}>:"
    # Horde wraps what it quotes at 76 columns
    lines = [part for line in quoted.splitlines()
             for part in textwrap.wrap(line, 74, break_long_words=False, break_on_hyphens=False) or [""]]
    if client == "horde":
        return header, f"{header}\n\n" + "\n".join(f"> {line}" if line else ">" for line in lines)
    return header, f"{header}\n\n" + "\n".join(lines)


def _html(client: str, text: str, header: str, quoted: str) -> str:
    mine = "".join(f"<div>{escape(line) or '<br>'}</div>" for line in text.splitlines())
    theirs = escape(quoted).replace("\n", "<br>")
    if client in OTHER_CLIENTS:  # Horde: <blockquote type="cite">; the others: plain divs
        head = f"<div>{escape(header)}</div>" if header else ""
        body = f'<blockquote type="cite">{theirs}</blockquote>' if client == "horde" else f"<div>{theirs}</div>"
        return f"<html><body>{mine}<br>{head}{body}</body></html>"
    if client == "outlook":
        head = escape(header).replace("\n", "<br>")
        return (f"<html><body>{mine}<hr style=\"display:inline-block;width:98%\">"
                f"<div id=\"divRplyFwdMsg\">{head}</div><div>{theirs}</div></body></html>")
    if client == "gmail":
        return (f"<html><body><div dir=\"ltr\">{mine}</div><br><div class=\"gmail_quote\">"
                f"<div class=\"gmail_attr\">{escape(header)}<br></div>"
                f"<blockquote class=\"gmail_quote\">{theirs}</blockquote></div></body></html>")
    return (f"<html><body>{mine}<div><br><blockquote type=\"cite\"><div>{escape(header)}</div>"
            f"<div>{theirs}</div></blockquote></div></body></html>")
