"""The HTML part of a parsed message is decoded when first read (mailer/inbound/message.py
``_LazyHtml``): the same text, and the same defects, as decoding it while parsing."""
from __future__ import annotations

import email
import pytest

from bench.replies import DEFAULT_CORPUS as CORPUS
from mailer.inbound.message import ParsedMessage, parse_message
from mailer.inbound.reply import reply_text


def mail(html_part: bytes, text_part: bytes | None = b"Thanks, done.\n", extra: bytes = b"") -> bytes:
    parts = []
    if text_part is not None:
        parts.append(b'Content-Type: text/plain; charset="utf-8"\n\n' + text_part)
    parts.append(html_part)
    parts += [extra] if extra else []
    body = b"".join(b"--b1\n" + p + b"\n" for p in parts) + b"--b1--\n"
    return (b"From: Ann <ann@corp.example.com>\nTo: cop@corp.example.com\nSubject: Re: Day 1\n"
            b"Message-ID: <m1@corp.example.com>\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/alternative; boundary="b1"\n\n' + body)


def stdlib_html(raw: bytes) -> str | None:
    """The first HTML part outside any attached message, decoded as the parser always did."""
    for part in email.message_from_bytes(raw).walk():
        if part.get_content_type() == "message/rfc822":
            return None
        if part.get_content_type() == "text/html" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8", "replace").replace("\r\n", "\n")
    return None


@pytest.mark.parametrize("html_part", [
    b'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n'
    b"PHA+VGhhbmtzLCBkb25lLjwvcD4KPHA+w6lsw6h2ZTwvcD4=\n",
    b'Content-Type: text/html; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\n'
    b"<p>Gr=FC=DFe, =E9l=E8ve</p>\n",
    b"Content-Type: text/html\n\n<div>plain 7bit</div>\n",
])
def test_the_html_read_later_is_the_html_decoded_while_parsing(html_part):
    raw = mail(html_part)
    parsed = parse_message(raw)
    assert parsed.html == stdlib_html(raw) and parsed.html
    assert parsed.html == parsed.html  # read twice: the same text


def test_an_unknown_charset_in_the_html_part_is_a_defect_once_read_and_the_text_utf8():
    raw = mail(b'Content-Type: text/html; charset="x-nothing"\n\n<p>caf\xc3\xa9</p>\n')
    parsed = parse_message(raw)
    assert parsed.html == "<p>café</p>\n"
    assert parsed.defects.count("unknown charset 'x-nothing'") == 1
    parsed.html  # noqa: B018 - a second read decodes nothing again
    assert parsed.defects.count("unknown charset 'x-nothing'") == 1


def test_only_the_first_html_part_is_the_html_even_when_a_later_one_comes_first_to_be_read():
    second = b'Content-Type: text/html; charset="utf-8"\n\n<p>second</p>\n'
    parsed = parse_message(mail(b'Content-Type: text/html; charset="utf-8"\n\n<p>first</p>\n', extra=second))
    assert parsed.html == "<p>first</p>\n"


def test_a_reply_with_only_an_html_part_is_read_from_it():
    raw = mail(b'Content-Type: text/html; charset="utf-8"\n\n<div>Pause please</div>'
               b'<div class="gmail_quote">On Mon wrote:<blockquote>Day 1</blockquote></div>\n', text_part=None)
    parsed = parse_message(raw)
    assert parsed.text is None and reply_text(parsed) == "Pause please"


def test_html_given_to_the_constructor_is_kept_as_given():
    kwargs = dict(message_id=None, from_addr="a@b.c", from_name="", subject="", in_reply_to=[], references=[],
                  recipients=[], headers=[], content_type="text/html")
    assert ParsedMessage(**kwargs, html="<p>x</p>").html == "<p>x</p>"
    assert ParsedMessage(**kwargs).html is None
    assert ParsedMessage(**kwargs, html="<p>x</p>") == ParsedMessage(**kwargs, html="<p>x</p>")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared reply corpus is not here")
def test_every_corpus_reply_reads_the_same_html_as_the_stdlib():
    checked = 0
    for path in sorted(CORPUS.rglob("*.eml")):
        raw = path.read_bytes()
        expected = stdlib_html(raw)
        if expected is None:
            continue
        assert parse_message(raw).html == expected.replace("\x00", ""), path.name
        checked += 1
    assert checked
