"""explain(): the public contract of `run.py explain --json`, and describe() for people."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailer.inbound.explain import describe, explain

SAMPLES = Path(__file__).parent / "samples"
KEYS = {"kind", "intent", "reply_text", "comment", "role", "rsvp", "bounced", "hard", "rule", "context"}


def raw(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize("name, context, kind, intent, bounced, hard", [
    ("outlook_reply.eml", "approval", "reply", "approve", None, None),
    ("outlook_oof.eml", "approval", "auto_reply", "none", None, None),
    ("gmail_vacation.eml", "journal", "auto_reply", "none", None, None),
    ("postfix_dsn.eml", None, "bounce", "none", "erin@gone.example.org", True),
    ("exim_mailbox_full.eml", None, "bounce", "none", "grace@full.example.net", False),
    ("exchange_accept.eml", "meetup", "rsvp", "accept", None, None),
    ("apple_decline.eml", "meetup", "rsvp", "decline", None, None),
    ("thunderbird_tentative.eml", "meetup", "rsvp", "tentative", None, None),
    ("thunderbird_counter.eml", "meetup", "rsvp", "counter", None, None),
])
def test_contract(name, context, kind, intent, bounced, hard):
    result = explain(raw(name), context)
    assert KEYS <= set(result)
    assert (result["kind"], result["intent"], result["bounced"], result["hard"]) == (kind, intent, bounced, hard)
    assert result["context"] == (context or "journal")
    json.dumps(result)  # JSON-ready as it is


def test_reply_carries_text_comment_and_both_rules():
    result = explain(raw("outlook_reply.eml"), "approval")
    assert result["reply_text"].startswith("Approved")
    assert "Sent:" not in result["reply_text"]  # the quoted Outlook header block is gone
    assert result["comment"] == "nice, tight scope."
    assert result["rule"] == "reply: no machine signs; approval: approve keyword at the start"


def test_rsvp_dict_and_comment():
    result = explain(raw("google_accept.eml"), "meetup")
    assert result["rsvp"]["attendee"] == "alice.adams@gmail.com"
    assert (result["rsvp"]["uid"], result["rsvp"]["partstat"], result["rsvp"]["sequence"]) == (
        "meetup-12@example.test", "ACCEPTED", 0)
    assert result["comment"] == "Looking forward to it, bringing a colleague"
    assert result["rule"] == "rsvp: calendar REPLY; rsvp: PARTSTAT=ACCEPTED"


def test_context_lookup_is_used_only_without_a_context():
    seen = []

    def lookup(msg):
        seen.append(msg.from_addr)
        return "volunteer"

    assert explain(raw("outlook_reply.eml"), None, lookup)["context"] == "volunteer"
    assert explain(raw("outlook_reply.eml"), "approval", lookup)["context"] == "approval"
    assert seen == ["bob.brown@corp.example.com"]


def test_lookup_returning_none_falls_back_to_journal():
    assert explain(raw("outlook_reply.eml"), None, lambda msg: None)["context"] == "journal"


def test_unreadable_calendar_part_is_unclear():
    message = (b"From: a@example.org\r\nTo: cop@example.test\r\nSubject: Accepted: x\r\n"
               b"Content-Type: text/calendar; method=REPLY\r\n\r\nnot a calendar at all\r\n")
    result = explain(message, "meetup")
    assert (result["kind"], result["intent"], result["rsvp"]) == ("rsvp", "unclear", None)
    assert "unreadable" in result["rule"]


@pytest.mark.parametrize("name, context, words", [
    ("outlook_reply.eml", "approval", ["a person's reply", "approve", "approval context", "approve keyword"]),
    ("outlook_oof.eml", None, ["an auto-reply", "Auto-Submitted header", "never answered"]),
    ("postfix_dsn.eml", None, ["bounce (hard) for erin@gone.example.org", "delivery-status report"]),
    ("exchange_accept.eml", None, ["RSVP", "accept", "bob.brown@corp.example.com ACCEPTED", "PARTSTAT=ACCEPTED"]),
])
def test_describe_says_what_and_why(name, context, words):
    text = describe(explain(raw(name), context))
    for word in words:
        assert word in text
    assert 2 <= len(text.splitlines()) <= 6


def test_garbage_is_explained_not_raised():
    result = explain(b"\x00\xff garbage without headers", None)
    assert result["kind"] == "reply" and result["context"] == "journal"
    assert describe(result)
