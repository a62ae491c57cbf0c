"""The digest's participation chart: an inline PNG (cid) with bars in proportion to the store's
numbers, an alt text that says them in words, and the few numbers that matter beside it, sent
through the real worker."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

from PIL import Image

from mailer.flows.digest import chart
from mailer.store import challenges
from tests.flows.digest.test_digest import body, journal_two_days, world  # noqa: F401 - the fixture

UTC = timezone.utc
GREENS = {(0x2d, 0xa4, 0x4e), (0x1a, 0x7f, 0x37)}


def bar_heights(png: bytes, count: int) -> list[int]:
    """How many green pixels stand in the middle column of each of ``count`` bars (shown size x2)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    step = (chart.WIDTH - chart.RIGHT - chart.LEFT) / count
    heights = []
    for i in range(count):
        x = round((chart.LEFT + (i + 0.5) * step) * chart.SCALE)
        heights.append(sum(1 for y in range(image.height) if image.getpixel((x, y)) in GREENS))
    return heights


def test_bars_stand_in_proportion_to_the_numbers_and_zero_has_none():
    bars = chart.Bars(tuple(f"Day {d}" for d in range(1, 8)), (9, 9, 9, 7, 4, 0, 1), 12)
    png = chart.png(bars)
    assert Image.open(io.BytesIO(png)).size == (chart.WIDTH * chart.SCALE, chart.HEIGHT * chart.SCALE)
    full = (chart.HEIGHT - chart.BOTTOM - chart.TOP) * chart.SCALE
    for value, height in zip(bars.values, bar_heights(png, 7)):
        assert abs(height - full * value / 12) <= 3, (value, height)


def test_the_alt_text_and_key_numbers_say_the_chart_in_words():
    bars = chart.Bars(("Day 1", "Day 2", "Day 3"), (5, 3, 4), 6)
    alt = chart.alt_text(bars, "DevOps 30-day challenge")
    assert alt == ("Bar chart of DevOps 30-day challenge: how many of the 6 participants journaled on each "
                   "day, Day 1 to Day 3. day 1: 5; day 2: 3; day 3: 4.")
    assert chart.key_numbers(bars) == ["4 of 6 journaled on Day 3", "4.0 a day on average (67% of participants)",
                                       "Busiest: Day 1, 5 of 6"]


def test_a_long_challenge_keeps_its_day_numbers_legible():
    bars = chart.Bars(tuple(f"Day {d}" for d in range(1, 31)), tuple(range(30, 0, -1)), 30)
    heights = bar_heights(chart.png(bars), 30)
    assert heights == sorted(heights, reverse=True) and heights[-1] > 0
    assert chart._ticks(30) == [0, 10, 20, 30] and chart._ticks(41) == [0, 10, 20, 30, 40]


def test_the_sponsor_digest_carries_the_chart_inline_with_its_alt_text_and_numbers(world):  # noqa: F811
    journal_two_days(world)
    world.run(datetime(2027, 1, 6, 3, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    digest = world.digests("dana@corp.example.com")[0]
    images = [p for p in digest.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    html = digest.get_body(("html",)).get_content()
    assert f'src="cid:{cid}"' in html and 'width="400"' in html
    cid_ = challenges.list_challenges(world.db)[0]["id"]
    days = challenges.journaled_days(world.db, cid_)
    total = len(challenges.list_participants(world.db, cid_))
    shown = int(re.search(r"Day 1 to Day (\d+)\.", html).group(1))  # the sponsor's day, in their zone
    assert shown in (7, 8)
    per_day = [sum(1 for v in days.values() if d in v) for d in range(1, shown + 1)]
    assert sum(per_day) >= 2
    words = "; ".join(f"day {d}: {n}" for d, n in enumerate(per_day, start=1))
    assert f"how many of the {total} participants journaled on each day, Day 1 to Day {shown}. {words}." in html
    latest = f"{per_day[-1]} of {total} journaled on Day {shown}"
    assert latest in html and latest in body(digest)
    assert f"Busiest: Day 2, {per_day[1]} of {total}" in body(digest)
    full = (chart.HEIGHT - chart.BOTTOM - chart.TOP) * chart.SCALE
    for value, height in zip(per_day, bar_heights(images[0].get_content(), shown)):
        assert abs(height - full * value / total) <= 3
