"""Private data at rest: what cop-mailer writes is owner-only (folders 0700, files 0600) whatever
the umask, an older home is tightened, ``check`` warns about what stays open, and a password in
a file others can read stops every command."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.homelock import HomeLock
from mailer.store import open_db
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox
from tests.transports.test_maildir import message, outgoing

ROOT = Path(__file__).resolve().parents[1]


def run(home: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env)


def run_cli(home: Path, *args: str, **extra) -> subprocess.CompletedProcess:
    """The real program in its own process, started with the common umask 022."""
    return subprocess.run([sys.executable, "run.py", "--home", str(home), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, preexec_fn=lambda: os.umask(0o022), **extra)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def open_to_others(top: Path) -> list[str]:
    """Every folder or file under ``top`` (itself included) that the group or others may use."""
    paths = [top, *top.rglob("*")]
    return [f"{mode(p):04o} {p}" for p in paths if mode(p) & 0o077]


def reachable_by_others(home: Path) -> list[Path]:
    """What under ``home`` another user may read: open to others, in folders open to them."""
    def open_path(path: Path) -> bool:
        return all(mode(folder) & 0o011 for folder in path.parents if folder.is_relative_to(home) and folder != home)
    return sorted(p for p in home.rglob("*") if mode(p) & 0o044 and open_path(p))


@pytest.fixture
def umask_022():
    """The umask most systems start with: files 0644, folders 0755 unless the code says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_quick_start_tick_leaves_nothing_others_can_read(tmp_path):
    home = tmp_path / "var"  # the quick start's home, created by the command with the sample community
    done = run_cli(home, "tick", "--now", "2027-01-04T14:00:00Z")
    assert done.returncode == 0, done.stderr
    assert list((home / "mail" / "outbox" / "new").iterdir()), "the tick sent nothing"
    assert open_to_others(home) == []


def test_a_reply_handled_by_tick_and_filed_is_owner_only(tmp_path):
    home = tmp_path / "var"
    assert run_cli(home, "tick", "--now", "2027-01-04T14:00:00Z").returncode == 0
    for client in ("outlook", "gmail", "apple"):
        done = run_cli(home, "reply", "--to", "sam.carter@corp.example.com", "--client", client,
                       "--text", f"Drew the pipeline ({client}).", "--now", "2027-01-04T15:00:00Z")
        assert done.returncode == 0, done.stderr
    assert run_cli(home, "tick", "--now", "2027-01-04T15:01:00Z").returncode == 0
    filed = list((home / "mail" / "processed" / "cur").iterdir())
    assert len(filed) == 3
    assert open_to_others(home) == []


def test_journal_export_writes_owner_only_files(tmp_path):
    home, out = tmp_path / "var", tmp_path / "exports" / "sam"
    run(home, "tick", "--now", "2027-01-04T14:00:00Z")
    run(home, "reply", "--to", "sam.carter@corp.example.com", "--client", "gmail",
        "--text", "Private thoughts on the pipeline.", "--now", "2027-01-04T15:00:00Z")
    run(home, "tick", "--now", "2027-01-04T15:01:00Z")
    for fmt in ("md", "html", "json"):
        done = run_cli(home, "journal", "export", "sam.carter@corp.example.com", "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {"journal.md", "journal.html", "journal.json"}
    assert open_to_others(tmp_path / "exports") == []


def test_the_library_sets_modes_itself_whatever_the_umask(tmp_path, umask_022):
    home = tmp_path / "home"
    HomeLock(home).acquire()  # makes the home: another entry point than the CLI
    db = open_db(home / "mailer.db")
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    assert (home / "mailer.db-wal").exists() and (home / "mailer.db-shm").exists()
    assert open_to_others(home) == []  # the database, its -wal and -shm, the lock, the home
    transport = MaildirTransport(home / "mail")
    transport.send(outgoing(1))
    deliver_to_inbox(home / "mail", message(2))
    for fetched in list(transport.fetch()):
        transport.done(fetched)
    db.close()
    assert len(list((home / "mail" / "processed" / "cur").iterdir())) == 1
    assert open_to_others(home) == []


def older_home(home: Path) -> Path:
    """A home as an earlier version left it: folders 0755, database and mail 0644."""
    run(home, "tick", "--now", "2027-01-04T14:00:00Z")
    for path in [home, *home.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return home


def test_an_older_home_is_tightened_and_check_names_what_stays_open(tmp_path):
    home = older_home(tmp_path / "var")
    (home / "mailer.toml").write_text('[mailer]\ndata = "sample"\n')
    os.chmod(home / "mailer.toml", 0o644)
    assert run(home, "tick", "--now", "2027-01-04T14:05:00Z").exit_code == 0
    # What cop-mailer owns is closed; the home folder and mailer.toml are the person's: warned.
    # (Messages an older version wrote keep 0644 inside folders now 0700: out of others' reach.)
    assert reachable_by_others(home) == [home / "mailer.toml"]
    assert mode(home / "mailer.db") == 0o600 and mode(home / "mail" / "outbox" / "new") == 0o700
    result = run(home, "check")
    assert result.exit_code == 0, result.output
    assert f"  warn  home {home} is open to others (mode 0755): run chmod 700 {home}" in result.output
    assert f"warn  config file {home / 'mailer.toml'} is open to others (mode 0644)" in result.output
    warnings = json.loads(run(home, "check", "--json").output)["warnings"]
    assert len(warnings) == 2
    os.chmod(home, 0o700)
    os.chmod(home / "mailer.toml", 0o600)
    assert json.loads(run(home, "check", "--json").output)["warnings"] == []


PASSWORD_TOML = '[mailer]\ndata = "none"\n[smtp]\nhost = "localhost"\npassword = "hunter2"\n'


@pytest.mark.parametrize("command", [("tick",), ("check",), ("status",), ()])  # () is the worker
def test_a_password_others_can_read_stops_every_command(tmp_path, command):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text(PASSWORD_TOML)
    os.chmod(home / "mailer.toml", 0o640)  # group-readable is readable by others too
    result = run_cli(home, *command)
    assert result.returncode == 2
    toml = home / "mailer.toml"
    assert result.stderr == (f"error: {toml} holds smtp.password and others can read it (mode 0640): "
                             f"run chmod 600 {toml}, or better move the password to MAILER_SMTP_PASSWORD\n")
    assert not (home / "mailer.db").exists()


def test_a_password_in_an_owner_only_file_or_in_the_environment_runs(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text(PASSWORD_TOML)
    os.chmod(home / "mailer.toml", 0o600)
    assert run(home, "status").exit_code == 0
    (home / "mailer.toml").write_text(PASSWORD_TOML.replace('password = "hunter2"\n', ""))
    os.chmod(home / "mailer.toml", 0o644)
    assert run(home, "status", env={"MAILER_SMTP_PASSWORD": "hunter2"}).exit_code == 0


def test_init_writes_an_owner_only_config(tmp_path, umask_022):
    home = tmp_path / "new"
    assert run(home, "init").exit_code == 0
    assert mode(home) == 0o700 and mode(home / "mailer.toml") == 0o600


def test_the_worker_tightens_an_older_home(tmp_path):
    home = older_home(tmp_path / "var")
    worker = subprocess.Popen([sys.executable, "run.py", "--home", str(home)], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert worker.stdout.readline().startswith("cop-mailer worker on")  # running: opened the home
    finally:
        worker.send_signal(signal.SIGINT)
        worker.communicate(timeout=60)
    # Its own files are closed; the home folder (the person's) is left to `check` to warn about.
    assert reachable_by_others(home) == [] and mode(home) == 0o755 and mode(home / "mailer.db") == 0o600
