"""The quick reading of plain address headers gives exactly what the stdlib's parser gives, and the
sender is the one address of the raw From header, whatever its display name says."""
from __future__ import annotations

import random
from email.utils import formataddr, getaddresses

import pytest
from hypothesis import given, settings, strategies as st

from mailer.inbound.headers import _PLAIN_ADDRESS, addresses, read_sender

COMMON = ["Sam Carter <member00399@sim.example.com>", "cop+vc3vnqh3yuev42ma3i2q@sim.example.com",
          "first.last@example.org", "O'Brien Jr <ob@example.ie>", "a@b", "<x@y.z>", "Anna  Schmidt <a@s.de>"]
ODD = ['"Schmidt, Anna" <a@s.de>', "J. R. Smith <jr@x.com>", "a@b, c@d", "Anna <a@b> (work)",
       "undisclosed-recipients:;", "Anna <a@b", "Anna a@b>", "a@b.", ".a@b", "a..b@c", "José <j@x.es>",
       "", " ", "<", "Anna <>", "@b", "a@", "Anna <a@b>>", "A\tB <a@b>", "a @b", "a@ b"]
# Characters that make up addresses, their specials among them, to build near-misses from.
PIECES = ["a", "b", "Zed", "o'", "+", "-", "_", "=", "?", "9", " ", "  ", ".", "@", "<", ">", '"',
          "(", ")", ",", ";", ":", "[", "]", "\\", "\t", "é", "x.y", "ex.com"]


def agrees(value: str) -> None:
    assert addresses(value) == getaddresses([value]), value


@pytest.mark.parametrize("value", COMMON + ODD)
def test_listed_values_read_as_the_stdlib_reads_them(value):
    agrees(value)


def test_common_values_take_the_quick_way():
    slow = {"<x@y.z>", "Anna  Schmidt <a@s.de>"}  # no name, a double space: the long way
    assert all(bool(_PLAIN_ADDRESS.fullmatch(v)) != (v in slow) for v in COMMON)


def test_random_values_read_as_the_stdlib_reads_them():
    rng = random.Random(14)
    quick = 0
    for _ in range(20_000):
        name = " ".join(rng.choice(PIECES[:8]) for _ in range(rng.randrange(0, 3)))
        value = rng.choice([f"{name} <{{}}>", "{}", f"{name} {{}}"]).format(
            "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 9))))
        if rng.random() < 0.5:  # and half of them a proper address, maybe with a name
            value = rng.choice(["{}", f"{name} <{{}}>"]).format(
                f"{rng.choice(['a', 'o.b', 'x+t'])}@{rng.choice(['b', 'ex.com', 'x.y.z'])}")
        quick += bool(_PLAIN_ADDRESS.fullmatch(value))
        agrees(value)
    assert quick > 5_000  # the comparison covered the quick way, not only the stdlib's


# -- the sender (issue 19: a display name can impersonate) ------------------------------------

NAMES = st.one_of(st.text(max_size=40), st.sampled_from(
    ["ap1@corp.example.com", "Alice <ap1@corp.example.com>", "<ap1@corp.example.com>", "a@b, c@d", '"x" <y@z>']))


@settings(max_examples=300, deadline=None)
@given(name=NAMES)
def test_whatever_the_display_name_says_the_sender_is_the_address(name):
    value = formataddr((name, "m1@corp.example.com"), charset="utf-8")
    assert read_sender([value])[0] == "m1@corp.example.com", value


@pytest.mark.parametrize("name", [":\r", '"\r', "a\rb", "\r"])
def test_a_lone_cr_in_the_display_name_does_not_hide_the_address(name):
    # The examples Hypothesis found: getaddresses stops at a CR inside quotes.
    value = formataddr((name, "m1@corp.example.com"), charset="utf-8")
    assert read_sender([value])[0] == "m1@corp.example.com", value


@pytest.mark.parametrize("values, problem", [
    ([], "no From header"),
    (["a@b.example", "c@d.example"], "2 From headers"),
    (["ap1@corp.example.com)<evil@attacker.example>"], "From does not hold exactly one address"),
    (["undisclosed-recipients:;"], "From does not hold exactly one address"),
    (["Ann <>"], "From does not hold exactly one address"),
    (["ann@"], "From does not hold exactly one address"),
])
def test_a_from_that_names_nobody_says_why(values, problem):
    address, name, why = read_sender(values)
    assert (address, name) == ("", "") and why.startswith(problem)


def test_the_name_is_decoded_and_the_address_folded_to_lower_case():
    assert read_sender(["=?utf-8?q?J=C3=B6rg?=\r\n <Joerg@Corp.Example.COM>"]) == ("joerg@corp.example.com", "Jörg", None)
