"""The preferences page in chromium: pause, resume, stop each series, digests off, time zone,
send hour; a new time zone or hour seen in the next day email through the real worker's ticks."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from mailer.flows.charter import lifecycle
from mailer.store import charters, digests
from mailer.web.links import signer, unsubscribe_url
from tests.web.conftest import ROOT, open_page, press, screenshot
from tests.web.helpers import AIKO, DAY1, OLIVER, SampleHome, preferences_url

AT = DAY1 + timedelta(minutes=10)



def _press(page, series: str, action: str):
    row = page.find_element(By.CSS_SELECTOR, f'tr[data-series="{series}"]')
    press(page, row.find_element(By.CSS_SELECTOR, f'button[value="{action}"]'))
    return page.find_element(By.CSS_SELECTOR, f'tr[data-series="{series}"] td.state').text


TOKYO_MORNING = DAY1.replace(hour=23, minute=30)  # 08:30 on 5 January in Tokyo


def _day2_hour(sample, early: datetime, later: datetime, due: datetime, zone: str) -> int:
    """Tick at ``early`` and ``later`` (no day 2 to Aiko yet), then at ``due``: the local hour in
    ``zone`` of the day 2 email Aiko got, on 5 January."""
    for moment in (early, later):
        sample.tick(moment)
        assert not [m for m in sample.sent() if str(m["Subject"]).startswith("Day 2 of")
                    and m["To"].addresses[0].addr_spec == AIKO], moment
    sample.tick(due)
    local = sample.email_to(AIKO, "Day 2 of")["Date"].datetime.astimezone(ZoneInfo(zone))
    assert local.date().isoformat() == "2027-01-05"
    return local.hour


def test_pause_resume_and_stop_a_challenge_from_the_page(sample, serve_at, browser):
    serve_at(AT)
    page = open_page(browser, preferences_url(sample.email_to(AIKO, "Day 1 of")))
    assert "Aiko Tanaka" in page.page_source and AIKO not in page.page_source
    assert _press(page, "challenge:1", "pause") == "paused"
    assert page.find_element(By.ID, "saved").text == "Saved. DevOps 30-day challenge: paused."
    assert sample.status(AIKO) == "paused"
    screenshot(page, "preferences")
    assert _press(page, "challenge:1", "resume") == "getting emails"
    assert sample.status(AIKO) == "active"
    assert _press(page, "challenge:1", "stop") == "stopped"
    assert sample.status(AIKO) == "stopped"


def test_digests_off_from_the_page_and_by_one_click(sample, serve_at, browser):
    serve_at(AT)
    oliver = sample.person(OLIVER)  # a lead: gets digests
    page = open_page(browser, preferences_url(sample.email_to(OLIVER, "Day 1 of")))
    assert _press(page, "digest", "off") == "off"
    assert digests.cadences(sample.db)[oliver["id"]] == "off"
    assert _press(page, "digest", "monthly") == "monthly"
    url = unsubscribe_url(sample.settings, oliver["id"], f"digest:person:{oliver['id']}:until:x", AT)
    assert requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10).status_code == 200
    assert digests.cadences(sample.db)[oliver["id"]] == "off"


def test_project_news_stopped_by_one_click_and_taken_up_again_on_the_page(sample, serve_at, browser):
    charter_id = lifecycle.submit(sample.db, ROOT / "data" / "charters" / "observability-playbook.toml", AT)
    charters.set_status(sample.db, charter_id, "approved", AT)
    serve_at(AT)
    aiko = sample.person(AIKO)
    url = unsubscribe_url(sample.settings, aiko["id"], f"charter:{charter_id}:news:1:person:{aiko['id']}", AT)
    assert requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10).status_code == 200
    assert aiko["id"] in charters.news_stopped(sample.db, charter_id)
    page = open_page(browser, preferences_url(sample.email_to(AIKO, "Day 1 of")))
    assert _press(page, f"charter:{charter_id}", "resume") == "getting news"
    assert aiko["id"] not in charters.news_stopped(sample.db, charter_id)


def test_a_change_the_page_does_not_offer_is_refused_and_changes_nothing(sample, serve_at):
    server = serve_at(AT)
    token = signer(sample.settings).sign(sample.person(AIKO)["id"], "prefs", "", AT)
    for form in ({"series": "challenge:99", "action": "stop"}, {"series": "challenge:1", "action": "resume"},
                 {"series": "digest", "action": "weekly"}, {"action": "timezone", "timezone": "Mars/Olympus"},
                 {"action": "send_hour", "hour": "24"}, {"action": "send_hour", "hour": "eight"}):
        answer = requests.post(server.at(f"/p/{token}"), data=form, timeout=10, allow_redirects=False)
        assert answer.status_code == 400, form
    aiko = sample.person(AIKO)
    assert sample.status(AIKO) == "active" and (aiko["timezone"], aiko["send_hour"]) == ("Asia/Tokyo", None)


def test_a_new_time_zone_moves_the_next_day_email_to_the_new_local_hour(sample, serve_at, browser):
    """Aiko moves from Tokyo to Los Angeles after day 1: day 2 comes at 08:00 in Los Angeles, not Tokyo."""
    serve_at(AT)
    page = open_page(browser, preferences_url(sample.email_to(AIKO, "Day 1 of")))
    Select(page.find_element(By.ID, "timezone")).select_by_value("America/Los_Angeles")
    press(page, page.find_element(By.ID, "save-timezone"))
    assert page.find_element(By.ID, "saved").text == "Saved. Your time zone is Los Angeles (United States) · America/Los_Angeles."
    assert sample.person(AIKO)["timezone"] == "America/Los_Angeles"
    # 08:30 on 5 January in Tokyo, 07:30 in Los Angeles: not yet; 08:05 in Los Angeles: day 2
    assert _day2_hour(sample, TOKYO_MORNING, TOKYO_MORNING + timedelta(hours=16),
                      TOKYO_MORNING + timedelta(hours=16, minutes=35), "America/Los_Angeles") == 8


def test_an_own_send_hour_moves_the_next_day_email_to_that_hour(sample, serve_at, browser):
    """Aiko in Tokyo asks for 18:00 after day 1: day 2 comes at 18:00 in Tokyo, not 08:00."""
    serve_at(AT)
    page = open_page(browser, preferences_url(sample.email_to(AIKO, "Day 1 of")))
    Select(page.find_element(By.ID, "send-hour")).select_by_value("18")
    press(page, page.find_element(By.ID, "save-send-hour"))
    assert page.find_element(By.ID, "saved").text == "Saved. Your day emails come at 18:00 your time."
    # 08:30 and 17:30 on 5 January in Tokyo: not yet; 18:05: day 2
    assert _day2_hour(sample, TOKYO_MORNING, TOKYO_MORNING + timedelta(hours=9),
                      TOKYO_MORNING + timedelta(hours=9, minutes=35), "Asia/Tokyo") == 18
    Select(page.find_element(By.ID, "send-hour")).select_by_value("")
    press(page, page.find_element(By.ID, "save-send-hour"))
    assert sample.person(AIKO)["send_hour"] is None
