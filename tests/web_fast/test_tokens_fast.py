"""Fast tests (no browser, no server) of the signed links in mailer/web/tokens.py and
mailer/web/links.py, written to kill mutmut's mutants (docs/testing.md): each pins one decision
of who a link lets act."""
from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from mailer.errors import ConfigError
from mailer.web import links, tokens
from mailer.web.tokens import Link, Signer
from tests.web_fast import with_values

T0 = datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc)


def at(moment):
    return lambda: moment


def test_a_token_reads_back_as_its_person_purpose_and_ref():
    signer = Signer(["k1"], 365, at(T0))
    assert signer.read(signer.sign(7, "unsubscribe", "challenge:3"), "unsubscribe") == \
        Link(7, "unsubscribe", "challenge:3")
    assert signer.read(signer.sign(7, "prefs"), "prefs") == Link(7, "prefs", "")


def test_another_purpose_another_key_truncated_or_garbage_reads_as_none():
    signer = Signer(["k1"], 365, at(T0))
    token = signer.sign(7, "unsubscribe", "digest")
    assert signer.read(token, "prefs") is None
    assert Signer(["k2"], 365, at(T0)).read(token, "unsubscribe") is None
    assert signer.read(token[:-1], "unsubscribe") is None
    assert signer.read(token[:10], "unsubscribe") is None
    assert signer.read("", "unsubscribe") is None
    assert signer.read("not.a.token", "unsubscribe") is None


def test_a_link_works_until_link_days_and_not_a_second_after():
    token = Signer(["k1"], 2, at(T0)).sign(7, "prefs")
    assert Signer(["k1"], 2, at(T0 + timedelta(days=2))).read(token, "prefs") == Link(7, "prefs", "")
    assert Signer(["k1"], 2, at(T0 + timedelta(days=2, seconds=1))).read(token, "prefs") is None


def test_sign_at_dates_the_link_at_that_moment_not_the_clock():
    signer = Signer(["k1"], 1, at(T0 + timedelta(days=5)))
    old = signer.sign(7, "prefs", at=T0)
    assert signer.read(old, "prefs") is None
    assert signer.read(signer.sign(7, "prefs"), "prefs") is not None


def test_the_last_key_signs_and_older_keys_still_read():
    both = Signer(["old", "new"], 365, at(T0))
    token = both.sign(7, "prefs")
    assert Signer(["new"], 365, at(T0)).read(token, "prefs") is not None
    assert Signer(["old"], 365, at(T0)).read(token, "prefs") is None
    assert both.read(Signer(["old"], 365, at(T0)).sign(7, "prefs"), "prefs") is not None


@pytest.mark.parametrize("payload", [[True, ""], ["7", ""], [7, 3], [7.0, ""], [None, ""]])
def test_a_signed_payload_of_the_wrong_shape_reads_as_none(payload):
    signer = Signer(["k1"], 365, at(T0))
    token = signer._serializer("prefs", at(T0)).dumps(payload)
    assert signer.read(token, "prefs") is None


@pytest.mark.parametrize("payload", [[7], [7, "", "x"], 7, "x"])
def test_a_signed_payload_that_does_not_unpack_reads_as_none(payload):
    signer = Signer(["k1"], 365, at(T0))
    assert signer.read(signer._serializer("prefs", at(T0)).dumps(payload), "prefs") is None


def test_no_key_is_a_config_error():
    with pytest.raises(ConfigError, match="^no signing key for web links$"):
        Signer([], 365, at(T0))


def test_the_first_key_is_made_once_and_kept_private(tmp_path):
    home = tmp_path / "home"
    keys = tokens.ensure_keys(home, T0)
    assert len(keys) == 1 and keys[0]["retired"] is None and keys[0]["created"] == T0.isoformat()
    assert len(keys[0]["key"]) >= 40
    assert tokens.ensure_keys(home, T0 + timedelta(days=1)) == keys
    assert stat.S_IMODE(os.stat(tokens.keys_path(home)).st_mode) == 0o600
    assert tokens.keys_path(home) == home / "web-keys.json"


def test_a_broken_key_file_is_a_config_error(tmp_path):
    tmp_path.joinpath("web-keys.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a cop-mailer key file"):
        tokens.ensure_keys(tmp_path, T0)
    tmp_path.joinpath("web-keys.json").write_text("nonsense")
    with pytest.raises(ConfigError):
        tokens.ensure_keys(tmp_path, T0)
    tmp_path.joinpath("web-keys.json").write_text("[1]")
    with pytest.raises(ConfigError):
        tokens.ensure_keys(tmp_path, T0)


def test_rotation_keeps_old_links_for_old_key_days_then_drops_them(tmp_path):
    sign_old = tokens.home_signer(tmp_path, at(T0), 365, 30)
    token = sign_old.sign(7, "prefs")
    until = tokens.rotate_key(tmp_path, T0 + timedelta(days=1), 30)
    assert until == T0 + timedelta(days=31)
    saved = json.loads(tokens.keys_path(tmp_path).read_text())["keys"]
    assert [k["retired"] for k in saved] == [(T0 + timedelta(days=1)).isoformat(), None]
    on_day = tokens.home_signer(tmp_path, at(T0 + timedelta(days=30, hours=23)), 365, 30)
    assert on_day.read(token, "prefs") is not None
    assert tokens.home_signer(tmp_path, at(on_day.now()), 365, 30).sign(7, "prefs") != token
    assert Signer([saved[1]["key"]], 365, on_day.now).read(on_day.sign(7, "prefs"), "prefs") is not None
    after = tokens.home_signer(tmp_path, at(T0 + timedelta(days=31)), 365, 30)
    assert after.read(token, "prefs") is None


def test_a_second_rotation_drops_keys_retired_too_long_and_keeps_retired_dates(tmp_path):
    tokens.ensure_keys(tmp_path, T0)
    tokens.rotate_key(tmp_path, T0, 30)
    tokens.rotate_key(tmp_path, T0 + timedelta(days=10), 30)
    kept = json.loads(tokens.keys_path(tmp_path).read_text())["keys"]
    assert [k["retired"] for k in kept] == [T0.isoformat(), (T0 + timedelta(days=10)).isoformat(), None]
    tokens.rotate_key(tmp_path, T0 + timedelta(days=30), 30)
    kept = json.loads(tokens.keys_path(tmp_path).read_text())["keys"]
    assert [k["retired"] for k in kept] == [(T0 + timedelta(days=10)).isoformat(),
                                            (T0 + timedelta(days=30)).isoformat(), None]


def test_usable_is_strictly_before_the_end_of_old_key_days():
    key = {"retired": T0.isoformat()}
    assert tokens._usable(key, T0 + timedelta(days=30) - timedelta(seconds=1), 30)
    assert not tokens._usable(key, T0 + timedelta(days=30), 30)
    assert tokens._usable({"retired": None}, T0 + timedelta(days=9999), 30)


def test_extra_secret_signs_and_home_keys_still_read(tmp_path):
    plain = tokens.home_signer(tmp_path, at(T0), 365, 30)
    extra = tokens.home_signer(tmp_path, at(T0), 365, 30, extra_secret="from-config")
    assert extra.read(plain.sign(7, "prefs"), "prefs") is not None
    assert plain.read(extra.sign(7, "prefs"), "prefs") is None
    assert Signer(["from-config"], 365, at(T0)).read(extra.sign(7, "prefs"), "prefs") is not None
    assert tokens.home_signer(tmp_path, at(T0), 2, 30).max_age == 2 * 86400


@pytest.mark.parametrize("key,series", [
    ("challenge:7:day:3:person:2", "challenge:7"), ("challenge:7", "challenge:7"), ("challenge", None),
    ("charter:3:news:1:person:2", "charter:3"), ("charter:3:approval:1", None), ("charter:3", None),
    ("digest:weekly:2027-01-04:person:2", "digest"), ("digest", "digest"), ("answer:x", None),
    ("web:lead-signin:person:1:n", None)])
def test_the_series_of_an_email_key(key, series):
    assert links.series_of_key(key) == series


def test_email_links_name_their_series_and_purpose(settings):
    web = with_values(settings, web_base_url="https://cop.example.org")
    url = links.unsubscribe_url(web, 7, "challenge:3:day:1:person:7", T0)
    assert url.startswith("https://cop.example.org/u/")
    sig = Signer(links.signer(web).keys, 365, at(T0))
    assert sig.read(url.rsplit("/", 1)[1], "unsubscribe") == Link(7, "unsubscribe", "challenge:3")
    prefs = links.preferences_url(web, 7, T0)
    assert prefs.startswith("https://cop.example.org/p/")
    assert sig.read(prefs.rsplit("/", 1)[1], "prefs") == Link(7, "prefs", "")
    assert links.preferences_url(web, 7).startswith("https://cop.example.org/p/")
    assert links.unsubscribe_url(web, None, "challenge:3:day:1", T0) is None
    assert links.unsubscribe_url(web, 7, "answer:1", T0) is None
    assert links.preferences_url(web, None, T0) is None
    assert links.unsubscribe_url(with_values(web, web_base_url=""), 7, "digest", T0) is None
    assert links.preferences_url(with_values(web, web_base_url=""), 7, T0) is None


def test_the_email_links_are_dated_by_the_tick(settings):
    web = with_values(settings, web_base_url="https://cop.example.org", web_link_days=1)
    url = links.unsubscribe_url(web, 7, "digest", T0 - timedelta(days=3))
    assert Signer([k["key"] for k in tokens.ensure_keys(web.home, T0)], 1, at(T0)).read(
        url.rsplit("/", 1)[1], "unsubscribe") is None


def test_the_cached_signer_follows_a_rotated_key(settings):
    web = with_values(settings, web_base_url="https://cop.example.org")
    first = links.signer(web)
    assert links.signer(web) is first
    tokens.rotate_key(web.home, T0, 30)
    os.utime(tokens.keys_path(web.home), ns=(1, 1))
    second = links.signer(web)
    assert second is not first and second.keys != first.keys


# --- from the first mutmut run's survivors ------------------------------------------------------
FAR = datetime(2040, 6, 1, 12, 0, tzinfo=timezone.utc)  # far from the wall clock: a link dated by it expires


def test_rotating_a_home_with_no_key_yet_makes_one_to_retire(tmp_path):
    assert tokens.rotate_key(tmp_path, T0, 30) == T0 + timedelta(days=30)
    kept = json.loads(tokens.keys_path(tmp_path).read_text())["keys"]
    assert [(k["created"], k["retired"]) for k in kept] == [(T0.isoformat(), T0.isoformat()),
                                                           (T0.isoformat(), None)]


def test_a_broken_key_file_says_what_to_do(tmp_path):
    tmp_path.joinpath("web-keys.json").write_text("{}")
    with pytest.raises(ConfigError, match="move it away to start with a new key \\(links already sent stop working\\)"):
        tokens.ensure_keys(tmp_path, T0)


def test_a_charter_news_key_of_three_parts_is_its_series():
    assert links.series_of_key("charter:3:news") == "charter:3"


def test_email_links_are_dated_by_the_moment_passed_not_the_wall_clock(settings):
    web = with_values(settings, web_base_url="https://cop.example.org", web_link_days=1)
    keys = links.signer(web).keys
    reader = Signer(keys, 1, at(FAR))
    unsubscribe = links.unsubscribe_url(web, 7, "digest", FAR).rsplit("/", 1)[1]
    prefs = links.preferences_url(web, 7, FAR).rsplit("/", 1)[1]
    assert reader.read(unsubscribe, "unsubscribe") == Link(7, "unsubscribe", "digest")
    assert reader.read(prefs, "prefs") == Link(7, "prefs", "")
