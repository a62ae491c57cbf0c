import os
from pathlib import Path

import pytest

from mailer.config import commented_toml, load_settings
from mailer.errors import ConfigError


def write(home: Path, text: str) -> Path:
    (home / "mailer.toml").write_text(text)
    return home


def test_defaults_without_a_file(tmp_path):
    s = load_settings(tmp_path, env={})
    assert s.transport_kind == "maildir"
    assert s.rate_limits == (0, 0)
    assert s.db_path == tmp_path / "mailer.db"


def test_commented_file_loads_back_to_the_defaults(tmp_path):
    write(tmp_path, commented_toml({}))
    assert load_settings(tmp_path, env={}).values == load_settings(tmp_path / "absent", env={}).values


def test_the_init_file_is_the_defaults_but_no_sample_data(tmp_path):
    write(tmp_path, commented_toml())
    written = dict(load_settings(tmp_path, env={}).values)
    defaults = dict(load_settings(tmp_path / "absent", env={}).values)
    assert written.pop("mailer_data") == "none" and defaults.pop("mailer_data") == "sample"
    assert written == defaults


@pytest.mark.parametrize("value", ["cop", "cop@", "@example.org", "cop@example.org extra", "Cop <cop@example.org>",
                                   "cop@@example.org", ""])
def test_mailer_address_must_be_an_email_address(tmp_path, value):
    write(tmp_path, f'[mailer]\naddress = "{value}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, env={})
    assert str(err.value) == (f"{tmp_path / 'mailer.toml'}: mailer.address = {value!r}; "
                              "expected an email address like cop@example.org")


@pytest.mark.parametrize("value", ["cop@example.org", "cop.mailer+x@mail.example.co.uk", "cop@localhost"])
def test_good_mailer_addresses_pass(tmp_path, value):
    write(tmp_path, f'[mailer]\naddress = "{value}"\n')
    assert load_settings(tmp_path, env={}).mailer_address == value


@pytest.mark.parametrize("text, words", [
    ("[smtp]\nport = \"x\"\n", ["mailer.toml", "smtp.port", "'x'", "whole number"]),
    ("[smtp]\nprot = 25\n", ["unknown key smtp.prot", "port"]),
    ("[nope]\na = 1\n", ["unknown section [nope]"]),
    ("[transport]\nkind = \"pigeon\"\n", ["transport.kind", "'pigeon'", "maildir, smtp-imap"]),
    ("[smtp]\nport = 25\nport = 26\n", ["not valid TOML"]),
    ("[worker]\ninterval_seconds = true\n", ["worker.interval_seconds", "whole number"]),
])
def test_bad_files_name_the_file_key_value_and_expectation(tmp_path, text, words):
    write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, env={})
    for word in words:
        assert word in str(err.value)


def test_secrets_come_from_the_environment(tmp_path):
    write(tmp_path, '[smtp]\npassword = "in-file"\n')
    os.chmod(tmp_path / "mailer.toml", 0o600)
    assert load_settings(tmp_path, env={}).smtp_password == "in-file"
    assert load_settings(tmp_path, env={"MAILER_SMTP_PASSWORD": "s3"}).smtp_password == "s3"


def test_pace_presets_and_custom(tmp_path):
    write(tmp_path, '[transport]\npace = "exchange-online"\n')
    assert load_settings(tmp_path, env={}).rate_limits == (30, 10_000)
    write(tmp_path, '[transport]\npace = "custom"\nper_minute = 5\nper_day = 100\n')
    assert load_settings(tmp_path, env={}).rate_limits == (5, 100)


def test_settings_are_frozen(tmp_path):
    s = load_settings(tmp_path, env={})
    with pytest.raises(Exception):
        s.home = Path("/")  # type: ignore[misc]


def test_a_home_made_with_init_never_mails_the_sample_community(tmp_path):
    from click.testing import CliRunner

    from mailer.cli import main

    home = tmp_path / "real"
    assert CliRunner().invoke(main, ["--home", str(home), "init"]).exit_code == 0
    tick = CliRunner().invoke(main, ["--home", str(home), "tick", "--now", "2027-01-04T12:00:00Z", "--json"])
    assert tick.exit_code == 0, tick.output
    status = CliRunner().invoke(main, ["--home", str(home), "status", "--json"]).output
    assert '"people": 0' in status and '"outbox": {}' in status
    assert not (home / "mail" / "outbox" / "new").exists() or not list((home / "mail" / "outbox" / "new").iterdir())
