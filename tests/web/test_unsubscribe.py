"""One-click unsubscribe from a real email: in chromium, and as a mail provider POSTs it."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from selenium.webdriver.common.by import By

from mailer.simulation.replies import compose_reply
from mailer.store import challenges
from mailer.store import preferences as prefs_store
from mailer.transports.maildir import deliver_to_inbox
from tests.web.conftest import open_page, press, screenshot
from tests.web.helpers import AIKO, DAY1, MARIA, OLIVER, SampleHome, preferences_url, unsubscribe_url

ONE_CLICK = {"List-Unsubscribe": "One-Click"}  # RFC 8058: the body a provider POSTs



def test_opening_the_link_changes_nothing_and_the_button_stops_the_challenge(sample, serve_at, browser):
    server = serve_at(DAY1 + timedelta(minutes=10))
    day1 = sample.email_to(AIKO, "Day 1 of")
    assert day1["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page = open_page(browser, unsubscribe_url(day1))
    assert page.find_element(By.TAG_NAME, "h1").text == "Unsubscribe from DevOps 30-day challenge?"
    assert sample.status(AIKO) == "active"  # looking is not unsubscribing
    screenshot(page, "unsubscribe")
    press(page, page.find_element(By.ID, "unsubscribe"))
    assert page.find_element(By.ID, "outcome").text == "You are unsubscribed"
    assert sample.status(AIKO) == "stopped"
    screenshot(page, "unsubscribed")
    changes = prefs_store.changes_of(sample.db, sample.person(AIKO)["id"])
    assert [(c["series"], c["action"], c["via"]) for c in changes] == [("challenge:1", "stop", "one-click")]
    assert server.url in unsubscribe_url(day1)


def test_a_providers_post_without_cookies_stops_once_and_answers_200_every_time(sample, serve_at):
    serve_at(DAY1 + timedelta(minutes=10))
    url = unsubscribe_url(sample.email_to(MARIA, "Day 1 of"))
    for _ in range(2):
        answer = requests.post(url, data=ONE_CLICK, timeout=10)
        assert answer.status_code == 200 and not answer.cookies
    assert sample.status(MARIA) == "stopped"
    assert len(prefs_store.changes_of(sample.db, sample.person(MARIA)["id"])) == 1


def test_get_and_head_never_unsubscribe(sample, serve_at):
    serve_at(DAY1 + timedelta(minutes=10))
    url = unsubscribe_url(sample.email_to(MARIA, "Day 1 of"))
    assert requests.get(url, timeout=10).status_code == 200
    assert requests.head(url, timeout=10).status_code == 200
    assert sample.status(MARIA) == "active"


def test_a_one_click_stop_is_the_same_stop_as_a_reply(sample, serve_at):
    """Oliver replies "stop" from Gmail, María uses one-click: same state, both out of their groups."""
    serve_at(DAY1 + timedelta(minutes=10))
    reply = compose_reply(sample.email_to(OLIVER, "Day 1 of").as_bytes(), OLIVER, "Oliver", "stop", "gmail",
                          DAY1 + timedelta(minutes=5))
    deliver_to_inbox(sample.settings.mail_dir, reply)
    sample.tick(DAY1 + timedelta(minutes=5))
    requests.post(unsubscribe_url(sample.email_to(MARIA, "Day 1 of")), data=ONE_CLICK, timeout=10)
    grouped = {pid for members in challenges.current_groups(sample.db, 1).values() for pid in members}
    for address in (OLIVER, MARIA):
        assert sample.status(address) == "stopped"
        assert sample.person(address)["id"] not in grouped
    later = DAY1 + timedelta(days=1, hours=1)  # day 2 is open in London and Madrid
    sample.tick(later)
    assert not [m for m in sample.sent() if str(m["Subject"]).startswith("Day 2 of")
                and m["To"].addresses[0].addr_spec in (OLIVER, MARIA)]


def test_the_footer_links_to_the_preferences_page(sample, serve_at, browser):
    serve_at(DAY1 + timedelta(minutes=10))
    page = open_page(browser, preferences_url(sample.email_to(AIKO, "Day 1 of")))
    assert page.find_element(By.TAG_NAME, "h1").text == "Your email preferences"
    html = sample.email_to(AIKO, "Day 1 of").get_body(("html",)).get_content()
    assert "Your email preferences</a>" in html
