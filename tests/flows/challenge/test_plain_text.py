"""The plain-text part of every challenge email reads well on its own."""
from __future__ import annotations

import pytest

from mailer.flows.challenge import emails as mail
from mailer.outbound.markdown import to_text
from tests.flows.challenge.test_emails import CHALLENGE, DAY, PERSON, PLANS, rendered


def test_markdown_becomes_text():
    text = to_text("Draw **every** stage,\nfrom *commit* on. See [the guide](https://x.test/g), `make ci`.\n\n- one\n- two")
    assert text == "Draw every stage, from commit on. See the guide (https://x.test/g), make ci.\n\n- one\n- two"


@pytest.mark.parametrize("name", sorted(PLANS))
def test_text_part_has_no_markdown_marks_and_a_real_signature_delimiter(name):
    text, _ = rendered(PLANS[name])
    assert "**" not in text and "](" not in text
    assert "\n-- \nCommunity of Practice\n" in text  # RFC 3676: the delimiter keeps its space
    # Clients drop what follows "-- " when they quote: the routing reference goes above it.
    assert text.index("(Reference: abcdefghij)") < text.index("\n-- \n")


def test_every_day_email_names_the_challenge_and_shows_links_as_text_and_url():
    day = {**DAY, "activity": "Read [the runbook](https://wiki.test/run) and **note** one gap."}
    text, html = rendered(mail.day_email(CHALLENGE, day, PERSON, None, None, 0))
    assert CHALLENGE["title"] in text and CHALLENGE["title"] in html
    assert "Read the runbook (https://wiki.test/run) and note one gap." in text
