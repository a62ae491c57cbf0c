"""``run.py check``: what works and what does not, for every transport, sending nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from exchangelib.protocol import Protocol

from mailer.cli import main
from tests.conftest import write_rig_home
from tests.ews_server import EwsServer
from tests.transports.test_exchange import MAILBOX, write_home


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), "check", *args])


def test_maildir_check_passes_in_plain_lines_and_json(home):
    result = run(home)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "transport maildir"
    assert "everything needed works" in result.output
    data = json.loads(run(home, "--json").output)
    assert data["ok"] is True and [c["what"] for c in data["checks"]][:3] == ["log in", "read the inbox", "send"]


def test_exchange_check_passes_against_a_server_and_sends_nothing(home):
    server = EwsServer(MAILBOX).start()
    try:
        result = run(write_home(home, server))
        assert result.exit_code == 0, result.output
        assert "ok    calendar" in result.output and server.sent == []
    finally:
        server.stop()
        Protocol.clear_cache()


def test_exchange_check_fails_plainly_when_the_server_is_unreachable(home):
    server = EwsServer(MAILBOX)  # never started
    server.httpd.server_close()
    result = run(write_home(home, server), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["checks"][0]["what"] == "log in"
    assert "cannot reach the server" in data["checks"][0]["detail"]
    Protocol.clear_cache()


def test_a_configuration_error_is_one_plain_line(home):
    (home / "mailer.toml").write_text('[transport]\nkind = "exchange"\n')
    result = run(home)
    assert result.exit_code == 1 and "exchange.mailbox" in result.output


@pytest.mark.rig
def test_smtp_imap_check_logs_in_to_both_and_sends_nothing(mail_rig, tmp_path):
    users = mail_rig.fresh_users(("checker",))
    home = write_rig_home(tmp_path / "home", mail_rig, users["checker"], imap={"sent_folder": "Sent"})
    sessions = mail_rig.smtp_sessions(users["checker"].address)
    result = run(home)
    assert "ok    log in" in result.output and "ok    send" in result.output, result.output
    assert mail_rig.smtp_sessions(users["checker"].address) == sessions
    bad = write_rig_home(tmp_path / "bad", mail_rig, users["checker"], imap={"password": "wrong"},
                         smtp={"password": "wrong"})
    result = run(bad)
    assert result.exit_code == 1 and "FAIL  log in" in result.output
