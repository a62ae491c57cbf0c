"""The web pages in the reader's language (docs/web.md, "Languages"): a member's pages in the
language of the person their signed link names, the lead's sign-in email and pages in the
lead's, and the 404 in the browser's language or the community's, never the person's (a forged
link's 404 and a real, expired one's must be the same page, or the 404 would tell who is a member)."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.webdriver.common.by import By

from mailer.locale import LANGUAGES
from mailer.outbound import formats
from mailer.store import people
from mailer.web import links
from mailer.web.context import signer_for
from tests.web.conftest import open_page, press, screenshot, write_web_home
from tests.web.helpers import AIKO, DAY1, MARIA, OLIVER, SampleHome, unsubscribe_url

AT = DAY1 + timedelta(minutes=10)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SIGN_IN_LINK = re.compile(r"https?://\S+/lead/sign-in/[\w.-]+")


def speaks(sample: SampleHome, address: str, language: str) -> None:
    """Give ``address`` a language, as a people CSV's ``language`` column does."""
    p = sample.person(address)
    people.update_people(sample.db, [(p["email"], p["name"], p["timezone"], p["roles"] or "", language)])


@pytest.fixture
def sample(web_home, web_port):
    """The sample home, Oliver reading German, Aiko Japanese and Maria (a lead) French, after
    day 1's tick."""
    write_web_home(web_home, web_port, web={"lead_emails": MARIA})
    home = SampleHome(web_home)
    speaks(home, OLIVER, "de")
    speaks(home, AIKO, "ja")
    speaks(home, MARIA, "fr")
    home.tick(DAY1)
    yield home
    home.close()


def _stoppable(sample: SampleHome, address: str):
    found = [m for m in sample.sent() if m["To"].addresses[0].addr_spec == address and m["List-Unsubscribe-Post"]]
    assert found, f"no email with one-click unsubscribe to {address}"
    return found[-1]


def test_a_german_member_unsubscribes_on_a_german_page(sample, serve_at, browser):
    serve_at(AT)
    day1 = _stoppable(sample, OLIVER)
    assert str(day1["Subject"]).startswith(("Tag 1", "30-Tage-DevOps-Challenge"))  # the email is German too
    page = open_page(browser, unsubscribe_url(day1))
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    assert page.find_element(By.TAG_NAME, "h1").text == "Von 30-Tage-DevOps-Challenge abmelden?"
    button = page.find_element(By.ID, "unsubscribe")
    assert button.text == "Abmelden"
    assert page.find_element(By.ID, "preferences").text == "Ihre E-Mail-Einstellungen"
    assert sample.status(OLIVER) == "active"
    screenshot(page, "unsubscribe.de")
    press(page, button)
    assert page.find_element(By.ID, "outcome").text == "Sie sind abgemeldet"
    assert "Sie erhalten keine E-Mails von 30-Tage-DevOps-Challenge mehr." in page.find_element(By.TAG_NAME, "main").text
    assert sample.status(OLIVER) == "stopped"


def test_a_japanese_members_preferences_page(sample, serve_at, browser):
    serve_at(AT)
    url = links.preferences_url(sample.settings, sample.person(AIKO)["id"], AT)
    page = open_page(browser, url)
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    assert page.find_element(By.TAG_NAME, "h1").text == "メール配信の設定"
    chosen = page.find_element(By.CSS_SELECTOR, "#timezone option[selected]")
    assert (chosen.get_attribute("value"), chosen.text) == ("Asia/Tokyo", "東京 (日本) · Asia/Tokyo")
    row = page.find_element(By.CSS_SELECTOR, 'tr[data-series="challenge:1"]')
    assert row.find_element(By.CSS_SELECTOR, ".state").text == "配信中"
    screenshot(page, "preferences.ja")
    press(page, row.find_element(By.CSS_SELECTOR, 'button[value="pause"]'))
    assert page.find_element(By.ID, "saved").text.startswith("保存しました。")
    assert page.find_element(By.CSS_SELECTOR, 'tr[data-series="challenge:1"] .state').text == "一時停止中"
    assert sample.status(AIKO) == "paused"


def test_a_french_lead_gets_a_french_sign_in_email_and_pages_in_their_time_zone(sample, serve_at):
    server = serve_at(AT)
    browser = requests.Session()
    form = browser.get(server.at("/lead/sign-in"), headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"})
    assert '<html lang="fr">' in form.text and "L’espace des responsables" in form.text
    sent = browser.post(server.at("/lead/sign-in"), data={"email": MARIA, "csrf": CSRF.search(form.text).group(1)},
                        headers={"Accept-Language": "fr"})
    assert "Consultez votre messagerie" in sent.text
    sample.tick(AT)
    mail = [m for m in sample.sent() if m["To"].addresses[0].addr_spec == MARIA][-1]
    assert str(mail["Subject"]) == "Connexion à l’espace des responsables de Practice Community"
    text = mail.get_body(("plain",)).get_content()
    assert "Quelqu’un a demandé à se connecter" in text and "dans les 15 minutes" in text
    assert "« Se connecter »" in text and "Someone" not in text
    link = SIGN_IN_LINK.search(text).group(0)
    button = browser.get(link, headers={"Accept-Language": "en"})  # the lead's language, not the browser's
    assert '<html lang="fr">' in button.text and "Se connecter" in button.text
    browser.post(link, data={"csrf": CSRF.search(button.text).group(1)})
    overview = browser.get(server.at("/lead"))
    assert '<html lang="fr">' in overview.text and "Vue d’ensemble" in overview.text
    madrid = formats.zone_label(AT.astimezone(ZoneInfo("Europe/Madrid")), language="fr")
    assert f"({madrid})" in overview.text and "UTC" not in overview.text  # Maria's own time zone


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_404_is_the_same_for_a_forged_an_expired_and_a_missing_link(sample, serve_at, language):
    server = serve_at(AT)
    oliver = sample.person(OLIVER)["id"]  # reads German: his expired link must not say so
    old = signer_for(sample.settings, lambda: AT - timedelta(days=sample.settings.web_link_days, seconds=1))
    paths = ["/no/such/page", "/u/forged.token.value", f"/u/{old.sign(oliver, 'unsubscribe', 'challenge:1')}",
             f"/p/{old.sign(oliver, 'prefs')}", "/lead/sign-in/forged.token"]
    answers = {(r.status_code, r.text) for r in
               (requests.get(server.at(p), headers={"Accept-Language": language}, timeout=10) for p in paths)}
    assert len(answers) == 1
    status, page = answers.pop()
    assert status == 404 and f'<html lang="{language}">' in page
    assert language == "de" or "Dieser Link funktioniert nicht" not in page


def test_a_404_without_a_language_we_write_is_in_the_communitys(sample, serve_at):
    server = serve_at(AT)
    for header in ({}, {"Accept-Language": "pt-BR,pt;q=0.9"}):
        page = requests.get(server.at("/u/forged.token.value"), headers=header, timeout=10).text
        assert '<html lang="en">' in page and "This link does not work" in page
