"""Each branch of ``mailer.routing``: who may act, through which of our emails (issue 19).

Replies are written by ``compose_reply`` (Outlook, Gmail, Apple) to a real email in a real
store; ``tests/test_inbox.py`` drives the same routes through the worker's inbox.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailer import routing
from mailer.inbound.message import parse_message
from mailer.simulation.replies import compose_reply
from mailer.store import people, tokens
from tests.test_inbox import community  # noqa: F401 (a fixture)

ALICE = "alice@corp.example.com"


def routed(db, settings, now, raw: bytes) -> routing.Route:
    return routing.route(db, parse_message(raw), settings.mailer_address, now)


def headers_only(raw: bytes, **replace: bytes) -> bytes:
    """``raw`` without In-Reply-To/References and with ``replace`` applied to its bytes."""
    raw = re.sub(rb"(In-Reply-To|References): <[^>]+>\r\n", b"", raw)
    for old, new in replace.values():
        raw = raw.replace(old, new)
    return raw


@pytest.mark.parametrize("client", ["outlook", "gmail", "apple"])
def test_the_senders_address_is_compared_in_any_letter_case(db, settings, community, now, client):
    raw = compose_reply(community["data"], "Alice@Corp.Example.COM", "Alice", "Done!", client, now)
    found = routed(db, settings, now, raw)
    assert (found.refused, found.via, found.person["email"]) == (None, "token", ALICE)


@pytest.mark.parametrize("address", ["cop+{}@elsewhere.example", "other+{}@example.test", "xcop+{}@example.test"])
def test_a_token_counts_only_at_our_own_address(db, settings, community, now, address):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "gmail", now)
    token = re.search(rb"cop\+([a-z2-7]+)@example\.test", raw).group(1).decode()
    raw = headers_only(raw, to=(f"cop+{token}@example.test".encode(), address.format(token).encode()))
    found = routed(db, settings, now, raw)
    assert found.via == "body-reference" and found.ask  # only the body's short reference is left


def test_a_message_without_a_from_header_acts_for_nobody(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "outlook", now)
    raw = re.sub(rb"From: [^\r]*\r\n", b"", raw, count=1)
    found = routed(db, settings, now, raw)
    assert (found.token, found.person, found.via) == (None, None, "none")
    assert found.refused == "the sender cannot be read (no From header): acts for nobody, kept for the lead"


def test_nothing_of_ours_is_no_route(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "gmail", now)
    raw = headers_only(raw, to=(b"cop+", b"nobody+"), ref=(b"Reference:", b"Ref:"))
    raw = re.sub(rb"Content-Transfer-Encoding: base64.*", b"", raw, flags=re.S)  # no body left to search
    found = routed(db, settings, now, raw)
    assert (found.token, found.via, found.ask, found.keep) == (None, "none", False, False)
    assert found.refused == "no reply token, In-Reply-To or reference matched our mail"


def test_describe_says_how_and_why(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "apple", now)
    described = routing.describe(routed(db, settings, now, raw))
    assert described == {"via": "token", "purpose": "journal", "ref": "challenge:999:day:1", "person": ALICE,
                         "context": "journal", "refused": None}
    unknown = routing.Route({"purpose": "telepathy", "ref": "x:1"}, {"email": ALICE}, "token")
    assert routing.describe(unknown)["refused"] == "no flow handles telepathy replies yet"
    assert routing.describe(routing.Route(None, None, "none", refused="why"))["refused"] == "why"


def test_a_token_acts_until_the_moment_it_expires(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "gmail", now)
    token = re.search(rb"cop\+([a-z2-7]+)@", raw).group(1).decode()
    expires = tokens.get_token(db, token)["expires_at"]
    assert routed(db, settings, expires, raw).refused is None
    late = routed(db, settings, expires + timedelta(seconds=1), raw)
    assert late.refused == f"token expired on {expires:%Y-%m-%d}"
    assert (late.token["token"], late.person["email"], late.via) == (token, ALICE, "token")


def test_a_body_reference_two_tokens_share_names_neither(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "outlook", now)
    token = re.search(rb"cop\+([a-z2-7]+)@", raw).group(1).decode()
    alice = people.find_person(db, ALICE)
    tokens.add_token(db, token[:10] + "a" * 10, alice["id"], "journal", "challenge:999:day:2", "<x@example.test>",
                     now, now + timedelta(days=1))
    found = routed(db, settings, now, headers_only(raw, to=(b"cop+" + token.encode(), b"cop")))
    assert found.via == "none" and found.token is None


def test_someone_elses_reply_names_the_token_it_used(db, settings, community, now):
    raw = compose_reply(community["data"], "bob@corp.example.com", "Bob", "Done!", "outlook", now)
    found = routed(db, settings, now, raw)
    assert (found.via, found.person["email"], found.token["ref"]) == ("token", ALICE, "challenge:999:day:1")
    assert found.refused == f"sender bob@corp.example.com is not the token's recipient {ALICE}"


def test_references_are_searched_when_in_reply_to_is_gone(db, settings, community, now):
    # Some clients keep only References, with our Message-ID anywhere in the list.
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "gmail", now)
    ours = community["message_id"].encode()
    raw = headers_only(re.sub(rb"cop\+[a-z2-7]+@", b"cop@", raw))
    raw = raw.replace(b"Subject:", b"References: " + ours + b" <a@x.example>\r\nSubject:", 1)
    found = routed(db, settings, now, raw)
    assert (found.refused, found.via, found.person["email"]) == (None, "in-reply-to", ALICE)


@pytest.mark.parametrize("client", ["outlook", "gmail", "apple"])
def test_a_deactivated_persons_reply_is_kept_with_its_token_and_person(db, settings, community, now, client):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", client, now)
    people.set_status(db, people.find_person(db, ALICE)["id"], "inactive")
    found = routed(db, settings, now, raw)
    assert (found.via, found.person["email"], found.token is not None, found.ask) == ("token", ALICE, True, False)
    assert found.refused == (f"{ALICE} is deactivated: kept for the lead, not acted on "
                             "(people activate, then inbox replay, acts on it)")


def test_a_deactivated_person_found_by_the_body_reference_alone_is_not_asked(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "gmail", now)
    raw = headers_only(raw, to=(b"cop+", b"nobody+"))
    people.set_status(db, people.find_person(db, ALICE)["id"], "inactive")
    found = routed(db, settings, now, raw)
    assert (found.via, found.ask) == ("body-reference", False) and "is deactivated" in found.refused


def test_an_active_persons_reply_is_not_refused(db, settings, community, now):
    raw = compose_reply(community["data"], ALICE, "Alice", "Done!", "apple", now)
    people.set_status(db, people.find_person(db, ALICE)["id"], "active")
    assert routed(db, settings, now, raw).refused is None
