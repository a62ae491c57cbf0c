"""One parse for every part (outbound.markdown) and one formatter per kind of value (outbound.formats)."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from zoneinfo import ZoneInfo

import pytest

from mailer.outbound import formats, markdown

UTC = timezone.utc


def test_an_image_is_a_link_never_loaded_and_unsafe_links_stay_text():
    html = str(markdown.to_html("![chart](https://x.test/c.png) [m](mailto:a@b.test) [d](data:text/html,x) <img src=x>"))
    assert "<img" not in html and '<a href="https://x.test/c.png">chart</a>' in html
    assert '<a href="mailto:a@b.test">m</a>' in html and "[d](data:text/html,x)" in html
    assert "&lt;img src=x&gt;" in html
    assert markdown.to_text("![chart](https://x.test/c.png) [a@b.test](mailto:a@b.test)") == \
        "chart (https://x.test/c.png) a@b.test"


def test_plain_text_keeps_lists_headings_and_code_without_marks():
    text = markdown.to_text("## Before you start\n\n1. Open `make ci`\n2. Note **one** gap\n   - and *why*\n\n"
                            "> Quote\n\n```\nkeep  as is\n```")
    assert text == ("Before you start\n\n1. Open make ci\n2. Note one gap\n   - and why\n\n> Quote\n\n"
                    "keep  as is")


@pytest.mark.parametrize("minutes,shown", [(45, "45 minutes"), (60, "1 hour"), (90, "1 hour 30 minutes"),
                                           (120, "2 hours"), (1, "1 minute")])
def test_duration(minutes, shown):
    assert formats.duration(minutes) == shown


def test_hours_money_counts_and_numbers():
    assert (formats.hours(48), formats.hours(2.34), formats.hours(1)) == ("48 hours", "2.3 hours", "1 hour")
    assert (formats.money(4500, "EUR"), formats.money(99.5, "EUR")) == ("4,500 EUR", "99.50 EUR")
    assert (formats.count(1, "person", "people"), formats.count(3, "person", "people"), formats.count(0, "update")) \
        == ("1 person", "3 people", "0 updates")
    assert (formats.number(5000), formats.number(2.5)) == ("5,000", "2.5")


def test_dates_and_times():
    assert formats.date(date(2027, 1, 20)) == "Wed 20 Jan 2027" and formats.day(date(2027, 1, 20)) == "Wed 20 Jan"
    assert formats.time(time(9, 5)) == "09:05"
    assert formats.period(date(2026, 12, 28), date(2027, 1, 4)) == "28 Dec 2026 – 4 Jan 2027"


def test_a_meeting_past_midnight_names_the_second_day():
    start, end = datetime(2027, 1, 20, 22, 30, tzinfo=UTC), datetime(2027, 1, 21, 0, 30, tzinfo=UTC)
    assert formats.time_range(start, end, "Europe/London") == "Wed 20 Jan 2027, 22:30 – Thu 21 Jan 00:30"


def test_a_zone_without_a_letter_abbreviation_reads_as_an_offset():
    moment = datetime(2027, 1, 20, 12, tzinfo=UTC)
    assert formats.zone_label(moment.astimezone(ZoneInfo("Asia/Dubai"))) == "UTC+04:00"
