"""Hostile or huge replies cost little: reading grows linearly and stops at a character cap.

Cost is counted, not timed: ``work`` counts the Python and C function calls a reading makes
(sys.setprofile), so doubling a linear input about doubles it and a quadratic step shows
as four times as much, on any machine. bench/replies.py prints the wall-clock figures.
"""
from __future__ import annotations

import sys

import pytest

from bench import hostile
from mailer.inbound.commands import essential, interpret
from mailer.inbound.html_text import MAX_HTML_CHARS
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

