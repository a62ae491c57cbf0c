"""The [web] section: base_url's shape, and the old [mailer] unsubscribe_url read as base_url."""
from __future__ import annotations

import logging

import pytest

from mailer.config import load_settings
from mailer.errors import ConfigError


def _settings(home, text: str):
    (home / "mailer.toml").write_text(text)
    return load_settings(home, env={})


def test_the_old_unsubscribe_url_is_read_as_base_url_with_a_message(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        settings = _settings(tmp_path, '[mailer]\nunsubscribe_url = "https://cop.example.org/u/"\n')
    assert settings.web_base_url == "https://cop.example.org"
    assert "[mailer] unsubscribe_url is replaced by [web] base_url" in caplog.text


def test_base_url_wins_over_the_old_key_and_loses_its_trailing_slash(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        settings = _settings(tmp_path, '[mailer]\nunsubscribe_url = "https://old.example.org/u"\n'
                                       '[web]\nbase_url = "https://cop.example.org/mail/"\n')
    assert settings.web_base_url == "https://cop.example.org/mail"
    assert not caplog.text


@pytest.mark.parametrize("url", ["http://cop.example.org", "cop.example.org", "https://cop.example.org/?a=1",
                                 "ftp://cop.example.org"])
def test_base_url_must_be_https_except_on_this_machine(tmp_path, url):
    with pytest.raises(ConfigError, match="base_url"):
        _settings(tmp_path, f'[web]\nbase_url = "{url}"\n')
    assert _settings(tmp_path, '[web]\nbase_url = "http://127.0.0.1:8025"\n').web_base_url == "http://127.0.0.1:8025"


def test_a_web_secret_in_a_file_others_can_read_is_refused(tmp_path):
    (tmp_path / "mailer.toml").write_text('[web]\nsecret = "s3cret-s3cret"\n')
    (tmp_path / "mailer.toml").chmod(0o644)
    with pytest.raises(ConfigError, match="MAILER_WEB_SECRET"):
        load_settings(tmp_path, env={})
