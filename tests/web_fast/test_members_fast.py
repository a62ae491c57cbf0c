"""Fast tests (no browser: the app called in-process over ASGI) of the members' one-click and
preferences pages (mailer/web/members.py) and of what a member may change (mailer/preferences.py).
Written to kill mutmut's mutants (docs/testing.md): a token of another purpose or key, a
person erased, a series not theirs, a POST with no cookie that must still stop one-click."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from mailer import preferences
from mailer.store import challenges, charters, digests, people
from mailer.store import preferences as pstore
from starlette.applications import Starlette

from mailer.web import members
from mailer.web.context import WebContext
from mailer.web.pages import not_found
from mailer.web.tokens import Signer
from tests.web_fast import with_values

FIELDS = {"title": "Write daily", "domain": "D", "description": "", "start": "2027-01-04", "length": 3,
          "send_hour": 8, "send_minute": 0, "partners": True, "participants_spec": "all",
          "sponsors": ["s@example.test"], "source": "t.toml"}
SPEC = {"title": "Wiki", "learning_sponsors": ["ls@example.test"], "funding_sponsors": ["fs@example.test"]}


def call(app, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
    """One request to the ASGI ``app``, with no cookie: status, headers, body."""
    body = urlencode(form or {}).encode()
    headers = [(b"host", b"cop.example.org")]
    if form is not None:
        headers += [(b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode())]
    path_only, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "https", "path": path_only, "raw_path": path_only.encode(), "query_string": query.encode(),
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("cop.example.org", 443), "root_path": ""}
    sent, out = [False], {"status": 0, "headers": {}, "body": b""}

    async def receive():
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"].decode()


@pytest.fixture
def web(settings):
    return with_values(settings, web_base_url="https://cop.example.org")


@pytest.fixture
def signer(now):
    return Signer(["k1"], 365, lambda: now)


@pytest.fixture
def ctx(home, web, signer, now):
    return WebContext(home=home, settings=web, signer=signer, now=lambda: now)


@pytest.fixture
def app(ctx):
    # the members' routes as mailer/web/app.py mounts them (not imported here: it pulls in the CLI)
    app = Starlette(routes=members.routes(), exception_handlers={404: not_found, 405: not_found})
    app.state.ctx = ctx
    return app


@pytest.fixture
def ana(db):
    return people.add_person(db, "ana@example.test", "Ana", "Asia/Tokyo")


@pytest.fixture
def cid(db, now, ana):
    cid = challenges.create_challenge(db, FIELDS, [("One", "a"), ("Two", "b"), ("Three", "c")], now)
    challenges.add_participant(db, cid, ana, now, True)
    return cid


def person(db, pid):
    return people.get_person(db, pid)


def status(db, cid, pid):
    return challenges.get_participant(db, cid, pid)["status"]


def test_one_click_post_with_no_cookie_stops_the_series_and_a_second_changes_nothing(db, app, signer, cid, ana):
    token = signer.sign(ana, "unsubscribe", f"challenge:{cid}")
    code, headers, body = call(app, "POST", f"/u/{token}")
    assert code == 200 and "location" not in headers
    assert status(db, cid, ana) == "stopped"
    (change,) = pstore.changes_of(db, ana)
    assert (change["series"], change["action"], change["via"]) == (f"challenge:{cid}", "stop", "one-click")
    assert call(app, "POST", f"/u/{token}")[0] == 200
    assert len(pstore.changes_of(db, ana)) == 1


def test_looking_at_the_unsubscribe_page_changes_nothing(db, app, signer, cid, ana):
    code, _, body = call(app, "GET", f"/u/{signer.sign(ana, 'unsubscribe', f'challenge:{cid}')}")
    assert code == 200 and status(db, cid, ana) == "active" and pstore.changes_of(db, ana) == []
    assert "https://cop.example.org/p/" in body


def test_the_unsubscribe_page_links_to_the_persons_own_preferences(ctx, signer, cid, ana):
    view = members._unsubscribe_view(ctx, signer.sign(ana, "unsubscribe", f"challenge:{cid}"), False)
    assert view["posted"] is False and view["changed"] is False and view["series"].state == "active"
    token = view["prefs_url"].removeprefix("https://cop.example.org/p/")
    assert signer.read(token, "prefs").person_id == ana
    view = members._unsubscribe_view(ctx, signer.sign(ana, "unsubscribe", f"challenge:{cid}"), True)
    assert view["posted"] is True and view["changed"] is True and view["series"].state == "stopped"
    again = members._unsubscribe_view(ctx, signer.sign(ana, "unsubscribe", f"challenge:{cid}"), True)
    assert again["changed"] is False and again["series"].state == "stopped"


def test_a_series_the_person_is_not_in_changes_nothing_but_answers(db, app, signer, cid, ana):
    other = people.add_person(db, "bo@example.test", "Bo", "UTC")
    code, _, _ = call(app, "POST", f"/u/{signer.sign(other, 'unsubscribe', f'challenge:{cid}')}")
    assert code == 200 and status(db, cid, ana) == "active" and pstore.changes_of(db, other) == []


@pytest.mark.parametrize("make", ["prefs", "other key", "truncated", "expired", "erased", "nobody"])
def test_every_wrong_token_is_the_same_404_and_changes_nothing(db, app, signer, cid, ana, now, make):
    good = signer.sign(ana, "unsubscribe", f"challenge:{cid}")
    token = {"prefs": signer.sign(ana, "prefs", f"challenge:{cid}"),
             "other key": Signer(["k2"], 365, lambda: now).sign(ana, "unsubscribe", f"challenge:{cid}"),
             "truncated": good[:-3],
             "expired": signer.sign(ana, "unsubscribe", f"challenge:{cid}", at=now - timedelta(days=366)),
             "erased": good, "nobody": signer.sign(999, "unsubscribe", f"challenge:{cid}")}[make]
    if make == "erased":
        people.set_status(db, ana, "erased")
    for method in ("GET", "POST"):
        assert call(app, method, f"/u/{token}")[0] == 404
    assert challenges.get_participant(db, cid, ana)["status"] == "active"
    prefs = signer.sign(ana, "unsubscribe") if make == "prefs" else token
    assert call(app, "GET", f"/p/{prefs}")[0] == 404
    assert call(app, "POST", f"/p/{prefs}", {"action": "stop", "series": f"challenge:{cid}"})[0] == 404
    assert challenges.get_participant(db, cid, ana)["status"] == "active" and pstore.changes_of(db, ana) == []


def test_an_erased_persons_preferences_link_is_a_404(db, app, signer, ana):
    people.set_status(db, ana, "erased")
    assert call(app, "GET", f"/p/{signer.sign(ana, 'prefs')}")[0] == 404


def test_preferences_page_shows_the_person_and_a_change_redirects_303(db, app, signer, cid, ana):
    token = signer.sign(ana, "prefs")
    code, _, body = call(app, "GET", f"/p/{token}")
    assert code == 200 and "Ana" in body and "Asia/Tokyo" in body and "Write daily" in body
    code, headers, _ = call(app, "POST", f"/p/{token}", {"action": "pause", "series": f"challenge:{cid}"})
    assert code == 303 and headers["location"] == f"https://cop.example.org/p/{token}?saved=challenge:{cid}"
    assert status(db, cid, ana) == "paused"
    assert pstore.changes_of(db, ana)[-1]["via"] == "page"
    code, _, body = call(app, "GET", f"/p/{token}?saved=challenge:{cid}")
    assert code == 200


@pytest.mark.parametrize("form", [{"action": "pause", "series": "challenge:999"}, {"action": "resume", "series": "x"},
                                  {"action": "resume"}, {"action": "timezone", "timezone": "Mars/Base"},
                                  {"action": "send_hour", "hour": "24"}, {"action": "send_hour", "hour": "x"},
                                  {"action": "fly", "series": "digest"}, {}])
def test_a_change_the_page_did_not_offer_is_a_400_and_changes_nothing(db, app, signer, cid, ana, form):
    token = signer.sign(ana, "prefs")
    code, _, body = call(app, "POST", f"/p/{token}", {**form} if form else {"x": "y"})
    assert code == 400 and f"https://cop.example.org/p/{token}" in body
    assert status(db, cid, ana) == "active" and pstore.changes_of(db, ana) == []
    assert person(db, ana)["timezone"] == "Asia/Tokyo" and person(db, ana)["send_hour"] is None


def test_time_zone_and_send_hour_from_the_page(db, app, signer, ana):
    token = signer.sign(ana, "prefs")
    code, headers, _ = call(app, "POST", f"/p/{token}", {"action": "timezone", "timezone": "America/Los_Angeles"})
    assert code == 303 and headers["location"].endswith("?saved=timezone")
    assert person(db, ana)["timezone"] == "America/Los_Angeles"
    code, headers, _ = call(app, "POST", f"/p/{token}", {"action": "send_hour", "hour": "18"})
    assert code == 303 and headers["location"].endswith("?saved=send_hour")
    assert person(db, ana)["send_hour"] == 18
    code, _, _ = call(app, "POST", f"/p/{token}", {"action": "send_hour", "hour": ""})
    assert code == 303 and person(db, ana)["send_hour"] is None
    assert [(c["series"], c["action"], c["via"]) for c in pstore.changes_of(db, ana)] == [
        ("timezone", "America/Los_Angeles", "page"), ("send_hour", "18:00", "page"), ("send_hour", "challenge", "page")]


# --- mailer/preferences.py directly ---------------------------------------------------------


def test_challenge_actions_follow_the_status_and_end_a_day_after_the_last_day(db, web, cid, ana, now):
    p = person(db, ana)
    s = preferences.series_of(db, p, f"challenge:{cid}", now, web)
    assert (s.ref, s.kind, s.title, s.state, s.actions) == (f"challenge:{cid}", "challenge", "Write daily",
                                                          "active", ("pause", "stop"))
    assert not s.stopped
    last_day = datetime(2027, 1, 6, 23, 0, tzinfo=now.tzinfo)
    assert preferences.series_of(db, p, f"challenge:{cid}", last_day + timedelta(days=1), web).actions == ("pause", "stop")
    assert preferences.series_of(db, p, f"challenge:{cid}", last_day + timedelta(days=2), web).actions == ()
    assert preferences.change(db, p, s, "pause", now, "page")
    paused = preferences.series_of(db, p, f"challenge:{cid}", now, web)
    assert (paused.state, paused.actions) == ("paused", ("resume", "stop"))
    assert preferences.change(db, p, paused, "stop", now, "page")
    stopped = preferences.series_of(db, p, f"challenge:{cid}", now, web)
    assert (stopped.state, stopped.actions, stopped.stopped) == ("stopped", ("resume",), True)
    assert preferences.change(db, p, stopped, "resume", now, "page")
    assert status(db, cid, ana) == "active"


def test_stopping_a_challenge_takes_the_person_out_of_their_partner_group(db, web, cid, ana, now):
    bo = people.add_person(db, "bo@example.test", "Bo", "UTC")
    challenges.add_participant(db, cid, bo, now, True)
    challenges.form_group(db, cid, [ana, bo], now)
    s = preferences.series_of(db, person(db, ana), f"challenge:{cid}", now, web)
    preferences.change(db, person(db, ana), s, "stop", now, "one-click")
    assert all(ana not in members for members in challenges.current_groups(db, cid).values())


def test_not_a_series_of_theirs(db, web, cid, ana, now):
    bo = person(db, people.add_person(db, "bo@example.test", "Bo", "UTC"))
    for ref in (f"challenge:{cid}", "challenge:99", "challenge:x", "charter:99", "charter:", "digests", "", "x:1"):
        assert preferences.series_of(db, bo, ref, now, web) is None
    challenges.set_challenge_state(db, cid, "removed")
    assert preferences.series_of(db, person(db, ana), f"challenge:{cid}", now, web) is None


def test_an_action_not_offered_raises_and_changes_nothing(db, web, cid, ana, now):
    p = person(db, ana)
    s = preferences.series_of(db, p, f"challenge:{cid}", now, web)
    for action in ("resume", "off", "", "weekly"):
        with pytest.raises(ValueError):
            preferences.change(db, p, s, action, now, "page")
    assert status(db, cid, ana) == "active" and pstore.changes_of(db, ana) == []


def test_project_news_stop_and_take_up_again(db, web, ana, now):
    chid = charters.create_charter(db, SPEC, [], now)
    p = person(db, ana)
    s = preferences.series_of(db, p, f"charter:{chid}", now, web)
    assert (s.ref, s.kind, s.title, s.state, s.actions) == (f"charter:{chid}", "news", "Project news: Wiki",
                                                          "getting", ("stop",))
    assert preferences.change(db, p, s, "stop", now, "one-click")
    assert ana in charters.news_stopped(db, chid)
    s = preferences.series_of(db, p, f"charter:{chid}", now, web)
    assert (s.state, s.actions, s.stopped) == ("stopped", ("resume",), True)
    assert not preferences.change(db, p, s, "stop", now, "one-click")
    assert preferences.change(db, p, s, "resume", now, "page")
    assert ana not in charters.news_stopped(db, chid)
    assert [(c["series"], c["action"], c["via"]) for c in pstore.changes_of(db, ana)] == [
        (f"charter:{chid}", "stop", "one-click"), (f"charter:{chid}", "resume", "page")]


def test_digests_stop_is_off_and_cadences_are_offered(db, web, ana, now):
    p = person(db, ana)
    s = preferences.series_of(db, p, "digest", now, web)
    assert (s.ref, s.kind, s.title, s.state) == ("digest", "digest", "Digests", web.digests_cadence)
    assert s.actions == tuple(c for c in ("daily", "weekly", "monthly", "off") if c != web.digests_cadence)
    assert preferences.change(db, p, s, "monthly" if web.digests_cadence != "monthly" else "daily", now, "page")
    assert preferences.change(db, p, preferences.series_of(db, p, "digest", now, web), "stop", now, "one-click")
    assert digests.cadences(db)[ana] == "off"
    off = preferences.series_of(db, p, "digest", now, web)
    assert off.stopped and off.state == "off"
    assert not preferences.change(db, p, off, "stop", now, "one-click")
    assert pstore.changes_of(db, ana)[-1]["action"] == "off"


def test_who_hears_a_projects_news():
    charter = {"spec": SPEC}
    assert preferences.hears_news({"roles": "", "email": "a@x"}, charter)
    assert preferences.hears_news({"roles": None, "email": "a@x"}, charter)
    assert preferences.hears_news({"email": "a@x"}, charter)
    assert preferences.hears_news({"roles": "lead,member", "email": "a@x"}, charter)
    assert preferences.hears_news({"roles": "lead member", "email": "a@x"}, charter)
    assert not preferences.hears_news({"roles": "lead", "email": "a@x"}, charter)
    assert preferences.hears_news({"roles": "lead", "email": "ls@example.test"}, charter)
    assert preferences.hears_news({"roles": "lead", "email": "fs@example.test"}, charter)
    assert not preferences.hears_news({"roles": "members", "email": "a@x"}, charter)


def test_all_series_lists_challenges_news_of_approved_projects_and_digests_for_leads(db, web, cid, ana, now):
    lead = people.add_person(db, "lead@example.test", "Lead", "UTC", roles=["lead"])
    pending = charters.create_charter(db, {**SPEC, "title": "Pending"}, [], now)
    approved = charters.create_charter(db, {**SPEC, "title": "Approved"}, [], now)
    done = charters.create_charter(db, {**SPEC, "title": "Done"}, [], now)
    charters.set_status(db, approved, "approved", now)
    charters.set_status(db, done, "completed", now)
    refs = [s.ref for s in preferences.all_series(db, person(db, ana), now, web)]
    assert refs == [f"challenge:{cid}", f"charter:{approved}", f"charter:{done}"]
    assert pending and [s.ref for s in preferences.all_series(db, person(db, lead), now, web)] == ["digest"]


def test_time_zone_changes_only_to_a_real_zone(db, ana, now):
    p = person(db, ana)
    assert not preferences.set_timezone(db, p, "Asia/Tokyo", now, "page")
    for bad in ("Mars/Base", "", "asia/tokyo", "Etc/GMT+5"):
        with pytest.raises(ValueError):
            preferences.set_timezone(db, p, bad, now, "page")
    assert preferences.set_timezone(db, p, "UTC", now, "page")
    assert person(db, ana)["timezone"] == "UTC" and pstore.changes_of(db, ana)[-1]["action"] == "UTC"


def test_send_hour_is_0_to_23_or_none(db, ana, now):
    p = person(db, ana)
    assert not preferences.set_send_hour(db, p, None, now, "page")
    for bad in (-1, 24, 100):
        with pytest.raises(ValueError):
            preferences.set_send_hour(db, p, bad, now, "page")
    assert preferences.set_send_hour(db, p, 0, now, "page")
    assert person(db, ana)["send_hour"] == 0
    assert preferences.set_send_hour(db, person(db, ana), 23, now, "page")
    assert not preferences.set_send_hour(db, person(db, ana), 23, now, "page")
    assert preferences.set_send_hour(db, person(db, ana), 7, now, "page")
    assert [c["action"] for c in pstore.changes_of(db, ana)] == ["00:00", "23:00", "07:00"]


def test_zones_are_region_names_and_utc():
    zones = preferences.zones()
    assert zones == preferences.zones() and zones[-1] == "UTC"
    assert "Asia/Tokyo" in zones and "America/Los_Angeles" in zones
    assert not any(z.startswith(("Etc/", "SystemV/")) for z in zones)
    assert "GMT" not in zones and "EST" not in zones
    assert zones[:-1] == sorted(zones[:-1])


# --- from the first mutmut run's survivors ------------------------------------------------------


def test_the_page_shows_whose_it_is_their_zone_and_hour_and_what_was_saved(db, app, signer, ana):
    token = signer.sign(ana, "prefs")
    assert preferences.set_send_hour(db, person(db, ana), 18, datetime(2027, 1, 4), "page")
    code, _, body = call(app, "GET", f"/p/{token}?saved=send_hour")
    assert code == 200 and "<p>For Ana." in body
    assert '<option value="Asia/Tokyo" selected>' in body
    assert '<option value="18" selected>' in body
    assert "Saved. Your day emails come at 18:00 your time." in body
    code, _, body = call(app, "GET", f"/p/{token}?saved=timezone")
    assert "Saved. Your time zone is Tokyo (Japan) · Asia/Tokyo." in body
    assert 'id="saved"' not in call(app, "GET", f"/p/{token}")[2]


def test_one_click_stops_digests_with_the_homes_cadence(db, app, signer, web, ana):
    lead = people.add_person(db, "lead@example.test", "Lead", "UTC", roles=["lead"])
    token = signer.sign(lead, "unsubscribe", "digest")
    code, _, body = call(app, "GET", f"/u/{token}")
    assert code == 200 and digests.cadences(db).get(lead) is None
    assert call(app, "POST", f"/u/{token}")[0] == 200
    assert digests.cadences(db)[lead] == "off"
    code, _, body = call(app, "GET", f"/p/{signer.sign(lead, 'prefs')}")
    assert code == 200 and "Digests" in body


def test_zones_are_computed_once_from_the_machines_list(monkeypatch):
    monkeypatch.setattr(preferences, "_ZONES", [])
    zones = preferences.zones()
    assert zones[-1] == "UTC" and zones.count("UTC") == 1
    assert "Europe/London" in zones and not any(z.startswith("Etc/") for z in zones)
    assert all("/" in z for z in zones[:-1]) and zones[:-1] == sorted(zones[:-1])
    assert preferences.zones() is zones
    monkeypatch.setattr(preferences, "_ZONES", ["Only/This"])
    assert preferences.zones() == ["Only/This"]


def test_a_send_hour_form_without_an_hour_goes_back_to_each_challenges_own(db, app, signer, ana):
    preferences.set_send_hour(db, person(db, ana), 18, datetime(2027, 1, 4), "page")
    code, headers, _ = call(app, "POST", f"/p/{signer.sign(ana, 'prefs')}", {"action": "send_hour"})
    assert code == 303 and headers["location"].endswith("?saved=send_hour")
    assert person(db, ana)["send_hour"] is None
