"""The digest reads as a person would write it, with dates as every other email writes them (issue 21)."""
from __future__ import annotations

import re
from datetime import datetime

from tests.flows.digest.test_digest import UTC, body, journal_two_days, world  # noqa: F401


def test_the_digest_opens_with_a_sentence_and_writes_dates_one_way(world):
    journal_two_days(world)
    world.run(datetime(2027, 1, 6, 3, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    message = world.digests("dana@corp.example.com")[0]
    text = message.get_body(("plain",)).get_content()
    assert "Here is how the work you sponsor went, 4 Jan – 11 Jan 2027." in text
    assert "in what you sponsor" not in body(message)
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", body(message))
