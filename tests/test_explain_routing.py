"""`explain` and the worker agree: given a home, explain routes a message as the worker does, so
it never says "journal" for a message the worker would refuse; `inbox list` shows the intent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main

SAM = "sam.carter@corp.example.com"
DAY1 = "2027-01-04T14:00:00Z"  # 09:00 in New York: everyone has day 1


def run(home: Path, *args: str):
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def sample(tmp_path) -> Path:
    home = tmp_path / "sample"
    run(home, "tick", "--now", DAY1)
    return home


def waiting(home: Path) -> list[str]:
    return sorted(str(p) for p in (home / "mail" / "inbox" / "new").iterdir())


def explained(home: Path, *args: str) -> dict:
    [line] = run(home, "explain", "--json", *args, *waiting(home)).splitlines()
    return json.loads(line)


def handled(home: Path, now: str) -> dict:
    run(home, "tick", "--now", now)
    [row] = json.loads(run(home, "inbox", "list", "--json"))
    return row


def test_a_routed_reply_is_acted_on_and_listed_with_its_intent(sample):
    run(sample, "reply", "--to", SAM, "--text", "Drew the pipeline.", "--now", "2027-01-04T15:00:00Z")
    seen = explained(sample, "--now", "2027-01-04T15:01:00Z")
    assert seen["route"]["via"] == "token" and seen["route"]["person"] == SAM
    assert (seen["outcome"], seen["intent"]) == ("acted on: journal", "journal")
    row = handled(sample, "2027-01-04T15:01:00Z")
    assert (row["state"], row["intent"]) == ("done", "journal")
    assert "journal" in run(sample, "inbox", "list")


def test_a_forged_sender_is_refused_by_both(sample):
    run(sample, "reply", "--to", SAM, "--from", "mallory@elsewhere.example", "--text", "Drew it.",
        "--now", "2027-01-04T15:00:00Z")
    seen = explained(sample, "--now", "2027-01-04T15:01:00Z")
    assert seen["intent"] == "none" and seen["outcome"].startswith("refused: sender mallory@elsewhere.example")
    row = handled(sample, "2027-01-04T15:01:00Z")
    assert row["state"] == "ignored" and seen["outcome"] == f"refused: {row['reason']}" and row["intent"] is None


def test_an_expired_token_is_refused_by_both(sample):
    run(sample, "reply", "--to", SAM, "--text", "Late, sorry.", "--now", "2027-06-01T10:00:00Z")
    seen = explained(sample, "--now", "2027-06-01T10:01:00Z")
    assert seen["intent"] == "none" and seen["outcome"].startswith("refused: token expired on")
    row = handled(sample, "2027-06-01T10:01:00Z")
    assert row["state"] == "ignored" and seen["outcome"] == f"refused: {row['reason']}"


def test_a_message_over_max_bytes_is_quarantined_by_both(sample):
    with open(sample / "mailer.toml", "a") as toml:
        toml.write("\n[inbox]\nmax_bytes = 500\n")
    run(sample, "reply", "--to", SAM, "--text", "Drew it.", "--now", "2027-01-04T15:00:00Z")
    seen = explained(sample)
    assert seen["intent"] == "none" and seen["outcome"].startswith("quarantined:") and "inbox.max_bytes" in seen["outcome"]
    assert handled(sample, "2027-01-04T15:01:00Z")["state"] == "quarantined"


def test_without_a_home_explain_says_routing_was_not_checked(tmp_path):
    path = tmp_path / "r.eml"
    path.write_bytes(b"From: a@x.test\r\nTo: b@y.test\r\nSubject: Re: Day 1\r\n\r\nDid it.\r\n")
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "none"), "explain", str(path)]).output
    assert "outcome: acted on: journal (no home: routing not checked)" in out


def bounce_of(home: Path, to_addr: str, returned_mid: str) -> None:
    """A Postfix-style delivery report returning the email ``returned_mid``, dropped in the inbox."""
    raw = (f"From: MAILER-DAEMON@mx.example.test\r\nTo: {to_addr}\r\nSubject: Undelivered Mail\r\n"
           "Message-ID: <dsn-1@mx.example.test>\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
           "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
           f"Final-Recipient: rfc822; {SAM}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
           f"Message-ID: {returned_mid}\r\nTo: {SAM}\r\n--b--\r\n").encode()
    (home / "mail" / "inbox" / "new" / "dsn.eml").write_bytes(raw)


def test_a_bounce_of_our_own_email_is_counted_by_both(sample):
    [sent] = [r for r in json.loads(run(sample, "outbox", "list", "--json", "--limit", "500"))
              if r["to_addr"] == SAM][:1]
    bounce_of(sample, "cop@example.test", sent["message_id"])
    seen = explained(sample, "--now", "2027-01-04T15:01:00Z")
    assert seen["outcome"] == (f"acted on: hard bounce counted against {SAM} (tied by returned Message-ID); "
                               "never answered")
    assert "route:" not in run(sample, "explain", *waiting(sample))
    row = handled(sample, "2027-01-04T15:01:00Z")
    assert (row["state"], row["kind"]) == ("done", "bounce")


def test_a_bounce_of_mail_we_never_sent_is_ignored_by_both(sample):
    bounce_of(sample, "cop@example.test", "<never-sent@elsewhere.example>")
    seen = explained(sample, "--now", "2027-01-04T15:01:00Z")
    assert seen["outcome"] == ("ignored: bounce tied to nothing we sent "
                               "(no VERP address, Message-ID or token of ours): ignored")
    row = handled(sample, "2027-01-04T15:01:00Z")
    assert (row["state"], row["kind"]) == ("ignored", "bounce")
