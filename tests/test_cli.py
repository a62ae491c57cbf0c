"""The command line as a person and a program use it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from mailer import outbox
from mailer.cli import main
from mailer.config import load_settings
from mailer.flows.base import PlannedEmail
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store

ROOT = Path(__file__).resolve().parents[1]


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def test_init_writes_a_commented_file_and_refuses_to_overwrite(tmp_path):
    home = tmp_path / "h"
    assert run(home, "init").exit_code == 0
    text = (home / "mailer.toml").read_text()
    assert "[transport]" in text and "# How mail is sent and read." in text
    again = run(home, "init")
    assert again.exit_code == 2 and "exists" in again.output and "Traceback" not in again.output


def test_a_bad_config_is_one_plain_line(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "mailer.toml").write_text("[smtp]\nport = 'twenty-five'\n")
    result = run(home, "status")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {home / 'mailer.toml'}: smtp.port = 'twenty-five'; expected a whole number >= 0"


def test_people_import_keeps_good_rows_and_names_bad_lines(home, tmp_path):
    csv = tmp_path / "people.csv"
    csv.write_text("email,name,timezone,roles\n"
                   "ann@corp.example.com,Ann,Europe/Paris,member\n"
                   "not-an-address,Bob,Europe/Paris\n"
                   "cy@corp.example.com,Cy,Mars/Olympus\n"
                   "dee@corp.example.com,Dee,Asia/Tokyo,member;approver\n"
                   "eve@corp.example.com,Eve,UTC,wizard\n")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 1  # a script can tell that rows were left out
    assert "2 added, 0 updated, 0 unchanged, 3 rejected" in result.output
    for line in ("line 3:", "line 4:", "line 6:"):
        assert f"{csv}: {line}" in result.output
    listed = json.loads(run(home, "people", "list", "--json").output)
    assert [(p["email"], p["roles"]) for p in listed] == [("ann@corp.example.com", "member"),
                                                         ("dee@corp.example.com", "member,approver")]


def test_sample_home_tick_status_outbox_and_inbox(tmp_path):
    home = tmp_path / "sample"
    tick = run(home, "tick", "--now", "2027-01-04T12:00:00Z", "--json")
    assert tick.exit_code == 0, tick.output
    summary = json.loads(tick.output)
    assert summary["sent"] == summary["enqueued"] > 0
    status = json.loads(run(home, "status", "--json").output)
    assert status["outbox"] == {"sent": summary["sent"]} and status["people"] == 14
    rows = json.loads(run(home, "outbox", "list", "--json").output)
    shown = run(home, "outbox", "show", str(rows[0]["id"]))
    assert "state" in shown.output and "sent" in shown.output
    raw = run(home, "outbox", "show", str(rows[0]["id"]), "--raw").output
    assert "Auto-Submitted: auto-generated" in raw
    missing = run(home, "outbox", "show", "99999")
    assert missing.exit_code == 2 and "no outbox message with id 99999" in missing.output


def test_reply_by_hand_is_processed_on_the_next_tick(tmp_path):
    home = tmp_path / "sample"
    run(home, "tick", "--now", "2027-01-04T14:00:00Z")  # 09:00 in New York: day 1 has gone out
    reply = run(home, "reply", "--to", "sam.carter@corp.example.com", "--client", "apple",
                "--text", "Drew the pipeline on a whiteboard.", "--now", "2027-01-04T15:00:00Z")
    assert reply.exit_code == 0, reply.output
    run(home, "tick", "--now", "2027-01-04T15:01:00Z")
    listed = json.loads(run(home, "inbox", "list", "--json").output)
    assert [(m["state"], m["kind"]) for m in listed] == [("done", "reply")]
    journal = run(home, "journal", "export", "sam.carter@corp.example.com")
    assert "Drew the pipeline on a whiteboard." in journal.output
    assert "wrote:" not in journal.output  # the quoted original was not kept


def test_reply_needs_a_sent_email(home):
    result = run(home, "reply", "--to", "nobody@corp.example.com", "--text", "hi")
    assert result.exit_code == 2 and "no email was sent to nobody@corp.example.com" in result.output


def test_explain_json_one_object_per_file(tmp_path):
    files = []
    for i, body in enumerate(["Approve", "I don't approve this.", "Changes needed: smaller scope"]):
        path = tmp_path / f"{i}.eml"
        path.write_bytes(f"From: a@x.test\r\nTo: b@y.test\r\nSubject: Re: charter\r\n\r\n{body}\r\n".encode())
        files.append(str(path))
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "none"), "explain", "--context", "approval",
                                       "--json", *files])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["file"], x["intent"]) for x in lines] == [(files[0], "approve"), (files[1], "reject"),
                                                         (files[2], "request_changes")]
    assert lines[2]["comment"] == "smaller scope"
    assert not (tmp_path / "none").exists()  # explain changes nothing, not even the home


def first_sent(folder: Path) -> None:
    """Wait until the first message file appears in ``folder`` (the Maildir rename is the event;
    the deadline only guards against a hang)."""
    deadline = time.monotonic() + 120
    while not (folder.is_dir() and any(os.scandir(folder))):
        assert time.monotonic() < deadline, f"nothing appeared in {folder}"
        time.sleep(0.01)


def test_sigterm_finishes_the_message_in_hand_and_exits_cleanly(home):
    db = open_db(home / "mailer.db")
    settings = load_settings(home, env={})
    people.add_person(db, "a@corp.example.com", "A", "UTC")
    outbox.enqueue(db, [PlannedEmail(key=f"k{i}", to="a@corp.example.com", subject="s",
                                     template="system/unrouted", context={"their_subject": ""})
                        for i in range(3000)], datetime.now(timezone.utc) - timedelta(minutes=1), settings)
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = proc.stdout.readline()  # printed once SIGTERM is handled: a line on a pipe, no clock
    assert "Ctrl-C to stop" in banner, proc.stderr.read()
    first_sent(home / "mail" / "outbox" / "new")  # mid-flush (if it already finished, all is sent)
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    counts = outbox_store.counts(db)
    assert "sending" not in counts and "unknown" not in counts
    assert counts.get("sent", 0) + counts.get("pending", 0) == 3000
    sent_files = [p for p in (home / "mail" / "outbox").rglob("*") if p.is_file()]
    assert len(sent_files) == counts["sent"]
