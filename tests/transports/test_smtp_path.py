"""MAIL FROM and RCPT TO paths written without smtplib's character-by-character address parser."""
from __future__ import annotations

import smtplib
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.transports.smtp_imap import smtp_path

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
DOT_ATOM_ADDRESS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*"


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(DOT_ATOM_ADDRESS, fullmatch=True))
def test_a_plain_address_gets_the_path_smtplib_gives_it(address):
    assert smtp_path(address) == smtplib.quoteaddr(address)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ATEXT + '.@-"<> ()[],:;\\', max_size=40))
def test_any_other_text_gets_the_path_smtplib_gives_it(text):
    assert smtp_path(text) == smtplib.quoteaddr(text)


def test_awkward_addresses_go_to_smtplib():
    for address in ['"a b"@example.test', "a@[192.0.2.1]", "<a@example.test>", "", "a..b@example.test",
                    "Ann <ann@example.test>", "cop+b-0123abcd@xn--bcher-kva.example"]:
        assert smtp_path(address) == smtplib.quoteaddr(address)
