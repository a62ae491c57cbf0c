"""Hostile or huge replies cost little: reading grows linearly and stops at a character cap.

Cost is counted, not timed: ``work`` counts the Python and C function calls a reading makes
(sys.setprofile), so doubling a linear input about doubles it and a quadratic step shows
as four times as much, on any machine. bench/replies.py prints the wall-clock figures.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import hostile
from mailer.inbound.classify import classify
from mailer.inbound.commands import essential, interpret
from mailer.inbound.html_text import MAX_HTML_CHARS
from mailer.inbound.message import MAX_STATUS_CHARS, parse_message
from mailer.inbound.reply import MAX_CHARS, extract_reply, html_reply


def work(fn, *args) -> int:
    """How many function calls (Python and builtin) ``fn(*args)`` makes."""
    count = 0

    def tally(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
    sys.setprofile(tally)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return count


SHAPES = {
    "short lines with sign-offs": lambda n: "\n".join(["ok", "Thanks,", "", "Best", "x"][k % 5] for k in range(n)),
    "quote blocks between blank lines": lambda n: "Done.\n" + "\n".join(["> q", ""][k % 2] for k in range(n)),
    "disclaimer paragraphs": lambda n: "\n".join(["", "This email is confidential."][k % 2] for k in range(n)),
    "sign-off lines only": lambda n: "\n".join("Thanks," for _ in range(n)),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_reading_a_reply_grows_linearly_with_its_lines(shape):
    build = SHAPES[shape]
    small = work(lambda: interpret("journal", extract_reply(build(1_000))))
    large = work(lambda: interpret("journal", extract_reply(build(2_000))))
    assert large < 2.5 * small, (small, large)


def test_finding_the_sign_off_is_linear():
    lines = ["entry"] * 2_000
    small = work(essential, "\n".join(lines[:1_000]))
    large = work(essential, "\n".join(lines))
    assert large < 2.5 * small, (small, large)


def test_html_reading_grows_linearly():
    small = work(html_reply, "<p>Done</p>" + "<div>a<br></div>" * 1_000)
    large = work(html_reply, "<p>Done</p>" + "<div>a<br></div>" * 2_000)
    assert large < 2.5 * small, (small, large)


def test_a_9_mb_reply_is_read_only_from_its_top():
    text = hostile.read(hostile.huge())
    assert text.startswith("Today I mapped the pipeline.")
    assert len(text) <= MAX_CHARS


def test_a_9_mb_html_reply_is_read_only_from_its_top():
    text = hostile.read(hostile.huge_html())
    assert text.startswith("Done") and len(text) <= MAX_HTML_CHARS


def test_one_100k_character_line_is_kept_whole_up_to_the_cap():
    assert len(hostile.read(hostile.long_line(100_000))) == 100_000 - 1  # its trailing space trimmed
    assert len(hostile.read(hostile.long_line(300_000))) <= MAX_CHARS


def test_200_deep_mime_is_read_without_raising():
    assert hostile.read(hostile.deep_mime(200)) == ""



def test_a_message_of_millions_of_empty_lines_is_parsed_only_so_far():
    four, eight = (work(parse_message, hostile.empty_lines(size)) for size in (4 << 20, 8 << 20))
    assert eight < 1.2 * four, (four, eight)  # both cut at MAX_LINES lines
    msg = parse_message(hostile.empty_lines(8 << 20))
    assert any(d.startswith("message cut at ") for d in msg.defects) and msg.text.startswith("Done today.")


def test_a_huge_delivery_report_is_read_as_text_not_as_150000_header_blocks():
    raw = hostile.huge_bounce(1 << 20)
    assert work(parse_message, raw) < 10 * raw.count(b"\n")  # a few calls a line, not a Message a block
    msg = parse_message(hostile.huge_bounce())
    assert msg.delivery_status.startswith("Final-Recipient: rfc822; x@example.org")
    assert len(msg.delivery_status) <= MAX_STATUS_CHARS
    assert classify(msg).kind == "bounce"


def test_a_small_delivery_report_reads_as_before():
    raw = (Path(__file__).parent / "samples" / "postfix_dsn.eml").read_bytes()
    status = parse_message(raw).delivery_status
    assert "Final-Recipient: rfc822; Erin@gone.example.org" in status and "Status: 5.1.1" in status


def test_a_message_of_260000_parts_is_parsed_only_so_far():
    small, large = (work(parse_message, hostile.many_parts(size)) for size in (1 << 20, 4 << 20))
    assert large < 1.2 * small, (small, large)  # both cut at MAX_DELIMITERS boundaries
    msg = parse_message(hostile.many_parts())
    assert msg.text == "x" and any("MIME boundaries" in d for d in msg.defects)
