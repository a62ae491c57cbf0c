"""`run.py serve` answers on a real home, in a real browser."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.web.conftest import open_page


def test_the_home_page_opens_in_chromium(live_server, browser):
    page = open_page(browser, live_server.at("/"))
    assert page.find_element(By.TAG_NAME, "h1").text == "Practice Community"


def test_an_unknown_page_is_a_404_page(live_server, browser):
    page = open_page(browser, live_server.at("/u/not-a-token"))
    assert "This link does not work" in page.find_element(By.TAG_NAME, "h1").text
