"""Journal helpers and the small Markdown converter."""
from __future__ import annotations

from datetime import datetime, timezone

from mailer.flows.challenge import journal
from mailer.outbound import markdown

T = datetime(2027, 1, 4, tzinfo=timezone.utc)


def test_streaks():
    assert journal.longest_streak(set()) == 0
    assert journal.longest_streak({1, 2, 3, 5, 6}) == 3
    assert journal.longest_streak({4}) == 1


def test_share_tag_is_a_whole_word_in_any_case():
    assert journal.is_shareable("Great day #Share")
    assert journal.is_shareable("#share\nmore")
    assert not journal.is_shareable("#shared folder")
    assert not journal.is_shareable("##share")
    assert not journal.is_shareable("please share this")


def test_clean_entry_keeps_inner_line_breaks():
    assert journal.clean_entry("\r\n\r\nline one\r\n\r\n  line two  \r\n\r\n") == "line one\n\n  line two"


def test_memories_come_weekly_from_a_week_back_or_earlier():
    texts = {1: "first", 3: "third"}
    assert journal.memory(texts, 8) == (1, "first")
    assert journal.memory(texts, 9) is None
    assert journal.memory({3: "third"}, 15) == (3, "third")
    assert journal.memory({9: "nine"}, 15) is None


def test_excerpt_cuts_at_a_word():
    assert journal.excerpt("one two three", 9) == "one two …"


def test_markdown_export_has_real_dates():
    rows = journal.journal_rows({"start": "2027-01-04"}, {2: "Time it"},
                                [{"day": 2, "text": "b", "received_at": T, "shareable": False, "id": 2},
                                 {"day": 2, "text": "a", "received_at": T, "shareable": True, "id": 1}])
    assert rows == [{"day": 2, "date": "2027-01-05", "date_label": "Tue 5 Jan", "title": "Time it",
                     "text": "a\n\nb", "shareable": True, "files": []}]
    text = journal.journal_markdown({"title": "C"}, "Sam", rows)
    assert "## Day 2 · Tue 5 Jan 2027 · Time it\n\na\n\nb" in text


def test_markdown_is_escaped_and_limited():
    html = str(markdown.to_html("Hi <b>x</b> **bold** `a<b`\nnext line\n\n- one\n- [two](https://e.test/?a=1&b=2)\n\n"
                              "[bad](javascript:alert(1))"))
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<strong>bold</strong>" in html and "<code>a&lt;b</code>" in html
    assert "<p>Hi &lt;b&gt;x&lt;/b&gt; <strong>bold</strong> <code>a&lt;b</code>\nnext line</p>" in html
    assert '<ul>\n<li>one</li>\n<li><a href="https://e.test/?a=1&amp;b=2">two</a></li>\n</ul>' in html
    assert html.endswith("<p>[bad](javascript:alert(1))</p>")  # left as text: not a link


def test_journal_text_as_html_keeps_lines_and_escapes():
    assert str(markdown.paragraphs_html("a <i>\nb\n\nc")) == "<p>a &lt;i&gt;<br>\nb</p>\n<p>c</p>"
