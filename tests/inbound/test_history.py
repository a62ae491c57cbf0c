"""Quoted history proved by the text of the email a reply answers (issue 19, "What they let us
share"): whatever the client wrote above the quote, a stretch of our own email is never the
author's. Replies are built by ``compose_reply`` from a real day email (rendered, composed)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mailer.flows.challenge import emails as mail
from mailer.inbound.html_text import html_to_text
from mailer.inbound.history import known_history, mark_history, sent_text
from mailer.inbound.message import parse_message
from mailer.inbound.reply import extract_reply, reply_from_parts, reply_text
from mailer.outbox import _compose
from mailer.simulation.replies import CLIENTS, OTHER_CLIENTS, compose_reply
from tests.flows.challenge.test_emails import CHALLENGE, DAY, PERSON

NOW = datetime(2027, 1, 11, 20, tzinfo=timezone.utc)
MINE = "Moved the deploy config into git.\n\nTwo secrets still live on the build box."


@pytest.fixture
def day_email(settings) -> bytes:
    """Day 8 as Sam gets it: it remembers his day-1 entry, which he had marked #share."""
    plan = mail.day_email(CHALLENGE, DAY, PERSON, None, (1, "Seven stages, two gates. #share"), 3)
    return _compose(plan, PERSON, "<day8@example.test>", "abcdefghijklmnopqrstuvwxyz", NOW, settings)


def reply(day_email: bytes, text: str, client: str):
    return parse_message(compose_reply(day_email, PERSON["email"], PERSON["name"], text, client, NOW))


@pytest.mark.parametrize("client", CLIENTS + OTHER_CLIENTS)
def test_only_the_authors_words_are_left_whatever_the_client_wrote_above_the_quote(day_email, client):
    msg = reply(day_email, MINE, client)
    assert reply_text(msg, answered=sent_text(day_email)) == MINE


@pytest.mark.parametrize("client", OTHER_CLIENTS)
def test_without_the_answered_text_an_unknown_quote_is_read_as_the_authors(day_email, client):
    """What went wrong before: Horde's "Quoting …:" line, or the whole original, was kept."""
    assert reply_text(reply(day_email, MINE, client)) != MINE


@pytest.mark.parametrize("client", ("horde-unquoted", "pasted"))
def test_the_instruction_and_the_remembered_tag_in_a_pasted_original_are_not_the_authors(day_email, client):
    found = reply_text(reply(day_email, MINE, client), answered=sent_text(day_email))
    assert "#share" not in found and "Seven stages" not in found


@pytest.mark.parametrize("client", OTHER_CLIENTS)
def test_the_html_part_alone_loses_the_quote_too(day_email, client):
    msg = reply(day_email, MINE, client)
    assert reply_from_parts(None, msg.html, None, sent_text(day_email)) == MINE


@pytest.mark.parametrize("client", CLIENTS + OTHER_CLIENTS)
@pytest.mark.parametrize("short", ["pause", "stop", "Practice 8", "Seven stages, two gates.",
                                   "Reply to this email to journal"])
def test_a_short_answer_made_of_words_of_our_email_stays_the_authors(day_email, client, short):
    assert reply_text(reply(day_email, short, client), answered=sent_text(day_email)) == short


def test_an_answer_below_a_pasted_original_is_kept(day_email):
    original = parse_message(day_email).text
    text = f"{original}\n\n{MINE}\n"
    assert extract_reply(text, answered=original) == MINE


def test_an_answer_between_two_pasted_stretches_is_kept(day_email):
    lines = parse_message(day_email).text.splitlines()
    text = "\n".join(lines[:8] + ["", MINE, ""] + lines[8:])
    assert extract_reply(text, answered="\n".join(lines)) == MINE


def test_the_answered_text_is_optional_and_changes_nothing_when_nothing_quotes_it(day_email):
    msg = reply(day_email, MINE, "gmail")
    assert reply_text(msg) == reply_text(msg, answered=None) == reply_text(msg, answered="Unrelated text here.")


def test_a_known_stretch_is_marked_as_a_quote_and_its_unknown_attribution_with_it():
    answered = "Hi Sam,\n\nReply to this email to journal: a few lines on what you tried."
    lines = ["Done.", "", "Quoting Community of Practice <cop@example.test>:", "", "Hi Sam,", "",
             "Reply to this email to journal: a few lines", "on what you tried."]
    assert known_history(lines, answered) == {2, 4, 5, 6, 7}
    marked, found = mark_history(lines, answered)
    assert found and marked[:2] == ["Done.", ""] and all(line.startswith("> ") for line in marked[4:] if line)


def test_sent_text_is_the_plain_part_and_a_quote_of_the_html_part_is_found_by_it(day_email):
    msg = parse_message(day_email)
    assert sent_text(day_email) == msg.text and sent_text(None) == "" and sent_text(b"") == ""
    html_rendered = html_to_text(msg.html).text  # what a client quoting our HTML part shows
    assert extract_reply(f"{MINE}\n\n{html_rendered}", answered=sent_text(day_email)) == MINE


def test_sent_text_of_an_email_with_an_attachment(settings):
    plan = mail.summary(CHALLENGE, PERSON, [{"day": 1, "date": "2027-01-04", "date_label": "Mon 4 Jan",
                                             "title": "Map", "text": "Seven stages.", "shareable": False}])
    raw = _compose(plan, PERSON, "<summary@example.test>", None, NOW, settings)
    assert plan.attachments and sent_text(raw) == parse_message(raw).text


def test_sent_text_of_another_shape_is_read_by_the_standard_parser():
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    part = MIMEText("Hi Sam,\n\nDay 8: base64 this time.", "plain", "utf-8")  # base64, not our QP
    assert sent_text(part.as_bytes()) == "Hi Sam,\n\nDay 8: base64 this time."
    mixed = MIMEMultipart("mixed")
    notes = MIMEText("attached notes", "plain", "utf-8")
    notes.add_header("Content-Disposition", "attachment", filename="notes.txt")
    mixed.attach(notes)
    mixed.attach(MIMEText("Grüße aus Köln,\r\nzweite Zeile", "plain", "iso-8859-1"))
    assert sent_text(mixed.as_bytes()) == "Grüße aus Köln,\nzweite Zeile"


@pytest.mark.parametrize("client", ("gmail", "apple", "horde"))
def test_a_short_answer_below_a_quote_of_our_email_stays_the_authors(day_email, client):
    msg = reply(day_email, "", client)
    text = f"{msg.text.strip()}\n\npause\n"  # bottom-posted under the ">" quote
    assert extract_reply(text, answered=sent_text(day_email)) == "pause"


def test_a_key_keeps_exactly_the_letters_and_digits_a_word_pattern_would():
    """``_key`` drops ASCII punctuation as bytes and judges the rest a character at a time: the
    same as the plain definition (NFKC, casefold, then everything ``[\\W_]`` matches removed)."""
    import random
    import re
    import unicodedata

    from mailer.inbound.history import _key

    def plain(text: str) -> str:
        return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())

    rng = random.Random(19)
    samples = [f"a{chr(cp)}b_ c{chr(cp)}é·" for cp in range(0, 0x3400)]
    samples += [f"x{chr(rng.randrange(0x110000))}y" for _ in range(20_000)]
    pool = [chr(c) for c in [*range(0x250), *range(0x3000, 0x3100), 0xd800, 0x1f600, 0xff21, 0x2028]]
    samples += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    assert [_key(text) for text in samples] == [plain(text) for text in samples]
