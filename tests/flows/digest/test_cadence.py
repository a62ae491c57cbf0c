"""When digests are due: weekly Monday 09:00 local by default, daily, monthly, across DST."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mailer.flows.digest.cadence import Cadence, latest_moment, next_moment, previous_moment

UTC = timezone.utc
WEEKLY = Cadence("weekly", 0, 9)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("tz, now, expected", [
    ("Asia/Tokyo", at(2027, 1, 11, 0, 0), at(2027, 1, 11, 0, 0)),  # Mon 09:00 JST exactly
    ("Asia/Tokyo", at(2027, 1, 10, 23, 59), at(2027, 1, 4, 0, 0)),  # a minute early: last week's
    ("America/New_York", at(2027, 1, 11, 13, 59), at(2027, 1, 4, 14, 0)),
    ("America/New_York", at(2027, 1, 11, 14, 0), at(2027, 1, 11, 14, 0)),
    ("America/New_York", at(2027, 3, 15, 13, 0), at(2027, 3, 15, 13, 0)),  # EDT since 14 March
    ("Europe/London", at(2027, 4, 1, 12, 0), at(2027, 3, 29, 8, 0)),  # BST: 09:00 is 08:00Z
])
def test_weekly_latest_moment_is_monday_nine_local(tz, now, expected):
    assert latest_moment(WEEKLY, tz, now) == expected


def test_daily_and_monthly():
    assert latest_moment(Cadence("daily", 0, 9), "Europe/Paris", at(2027, 1, 6, 7, 59)) == at(2027, 1, 5, 8, 0)
    assert latest_moment(Cadence("monthly", 0, 9), "Europe/Paris", at(2027, 3, 1, 7, 0)) == at(2027, 2, 1, 8, 0)
    assert latest_moment(Cadence("monthly", 0, 9), "Europe/Paris", at(2027, 3, 1, 8, 0)) == at(2027, 3, 1, 8, 0)


def test_previous_and_next_bracket_now():
    for rhythm in (WEEKLY, Cadence("daily", 0, 9), Cadence("monthly", 0, 9), Cadence("weekly", 4, 17)):
        now = at(2027, 3, 28, 12, 0)  # the day London springs forward
        last = latest_moment(rhythm, "Europe/London", now)
        assert previous_moment(rhythm, "Europe/London", last) < last <= now < next_moment(rhythm, "Europe/London", now)
