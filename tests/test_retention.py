"""``inbox.keep_raw_days``: the raw bytes of a handled reply go after that many days (the inbox
record's and mail/processed/'s), its record stays; driven by ticks on an injected clock."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.config import load_settings
from mailer.errors import ConfigError
from mailer.transports.maildir import deliver_to_inbox

DAY1 = "2027-01-04T14:00:00Z"  # 09:00 in New York: the sample challenge's day 1 has gone out
HANDLED = "2027-01-04T15:01:00Z"


def run(home: Path, *args: str):
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result


def made(tmp_path: Path, settings: str = "") -> Path:
    """A sample home whose three replies (Outlook, Gmail, Apple Mail) were handled at HANDLED,
    an out-of-office answer ignored (its text kept nowhere but in its raw bytes), and one
    oversized message quarantined unread."""
    home = tmp_path / "var"
    home.mkdir()
    (home / "mailer.toml").write_text(f'[mailer]\ndata = "sample"\n[inbox]\nmax_bytes = 20000\n{settings}')
    run(home, "tick", "--now", DAY1)
    for client in ("outlook", "gmail", "apple"):
        run(home, "reply", "--to", "sam.carter@corp.example.com", "--client", client,
            "--text", f"Secret-{client}: what I really think of the pipeline.", "--now", "2027-01-04T15:00:00Z")
    deliver_to_inbox(home / "mail", b"From: sam.carter@corp.example.com\r\nSubject: Out of office\r\n"
                     b"Auto-Submitted: auto-replied\r\nMessage-ID: <ooo@corp.example.com>\r\n\r\n"
                     b"Away until Monday. Secret-away: my home number is 555-0100.\r\n")
    deliver_to_inbox(home / "mail", b"From: sam.carter@corp.example.com\r\nSubject: big\r\n\r\n"
                     + b"Secret-big " * 3000)
    run(home, "tick", "--now", HANDLED)
    return home


def listed(home: Path) -> list[dict]:
    return json.loads(run(home, "inbox", "list", "--json").output)


def raw_of(home: Path, msg_id: int) -> str:
    """The raw bytes `inbox show --raw` prints, or "" when it says they were removed."""
    result = CliRunner().invoke(main, ["--home", str(home), "inbox", "show", str(msg_id), "--raw"])
    if result.exit_code != 0 and "keeps no raw bytes any more" in result.output:
        return ""
    assert result.exit_code == 0, result.output
    return result.output.strip()


def database_bytes(home: Path) -> bytes:
    """The database file once everything in the -wal is written into it."""
    conn = sqlite3.connect(home / "mailer.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return (home / "mailer.db").read_bytes()


def test_raw_bytes_go_after_keep_raw_days_and_the_record_stays(tmp_path):
    home = made(tmp_path)
    before = listed(home)
    assert sorted(m["state"] for m in before) == ["done", "done", "done", "ignored", "quarantined"]
    processed = home / "mail" / "processed" / "cur"
    assert len(list(processed.iterdir())) == 5
    assert b"Secret-away" in database_bytes(home)
    run(home, "tick", "--now", "2027-04-03T15:00:00Z")  # 89 days later: all kept
    assert all(raw_of(home, m["id"]) for m in before) and len(list(processed.iterdir())) == 5
    run(home, "tick", "--now", "2027-04-05T15:02:00Z")  # 91 days later
    after = listed(home)
    for old, new in zip(before, after):  # the record stays: sender, subject, outcome, reason
        assert {k: new[k] for k in old} == old
    handled = [m for m in after if m["state"] != "quarantined"]
    quarantined = [m for m in after if m["state"] == "quarantined"]
    assert [raw_of(home, m["id"]) for m in handled] == ["", "", "", ""]
    assert "Secret-big" in raw_of(home, quarantined[0]["id"])  # kept for a replay after a fix
    assert [b"Secret-big" in p.read_bytes() for p in processed.iterdir()] == [True]
    data = database_bytes(home)  # gone from the file too, not only from the table
    assert b"Secret-away" not in data and b"Secret-big" in data


def test_a_message_without_its_raw_bytes_says_so_and_is_not_replayed(tmp_path):
    home = made(tmp_path)
    run(home, "tick", "--now", "2027-04-05T15:02:00Z")  # 91 days later
    ignored = next(m for m in listed(home) if m["state"] == "ignored")
    for args in (("show", "--raw"), ("replay",)):
        result = CliRunner().invoke(main, ["--home", str(home), "inbox", args[0], str(ignored["id"]), *args[1:]])
        assert result.exit_code != 0
        assert (f"message {ignored['id']} keeps no raw bytes any more (removed after inbox.keep_raw_days, "
                "or erased with its sender)") in result.output
    assert next(m for m in listed(home) if m["id"] == ignored["id"])["state"] == "ignored"


def test_keep_raw_days_counts_from_when_each_message_was_handled(tmp_path):
    home = made(tmp_path, "keep_raw_days = 2\n")
    run(home, "reply", "--to", "sam.carter@corp.example.com", "--client", "gmail",
        "--text", "A later entry.", "--now", "2027-01-05T15:00:00Z")
    run(home, "tick", "--now", "2027-01-05T15:01:00Z")
    run(home, "tick", "--now", "2027-01-06T15:01:30Z")  # two days after the first three
    kept = [bool(raw_of(home, m["id"])) for m in listed(home) if m["state"] != "quarantined"]
    assert sorted(kept) == [False, False, False, False, True]


def test_zero_keeps_raw_bytes_forever(tmp_path):
    home = made(tmp_path, "keep_raw_days = 0\n")
    run(home, "tick", "--now", "2028-01-04T15:00:00Z")
    assert all(raw_of(home, m["id"]) for m in listed(home))
    assert len(list((home / "mail" / "processed" / "cur").iterdir())) == 5


@pytest.mark.parametrize("value, expected", [("-1", "a whole number >= 0"), ('"ninety"', "a whole number >= 0"),
                                             ("true", "a whole number >= 0")])
def test_a_bad_keep_raw_days_names_file_key_and_what_was_expected(tmp_path, value, expected):
    (tmp_path / "mailer.toml").write_text(f"[inbox]\nkeep_raw_days = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, env={})
    assert str(err.value).startswith(f"{tmp_path / 'mailer.toml'}: inbox.keep_raw_days = ")
    assert str(err.value).endswith(expected)


def test_the_default_is_ninety_days(tmp_path):
    assert load_settings(tmp_path, env={}).inbox_keep_raw_days == 90
