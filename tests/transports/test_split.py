"""Sending and reading apart (issue 24): SMTP sends (a relay, High Volume Email), Graph or IMAP
reads the replies, through the real worker tick.

SMTP is the rig's aiosmtpd in front of Dovecot (people's mailboxes); the service mailbox is the
local Graph test server, or a Dovecot mailbox read over IMAP. Replies are written as Outlook,
Gmail and Apple Mail write them (mailer.simulation.replies).
"""
from __future__ import annotations

import collections
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer import outbox, worker
from mailer.cli import main
from mailer.config import load_settings
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import compose_reply
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from mailer.transports import make_transport
from mailer.transports.split import SplitTransport
from tests.conftest import write_rig_home
from tests.graph_server import GraphServer
from tests.test_challenge_e2e import ENTRIES, REPLIES, START, challenge_file, journal_texts

pytestmark = pytest.mark.rig
DAYS = 3


def delivered(rig, user) -> collections.Counter:
    """Message-ID -> how many copies are in ``user``'s Dovecot inbox."""
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        found = client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if client.search("ALL") else {}
    ids = (next(v for k, v in data.items() if k.startswith(b"BODY")) for data in found.values())
    return collections.Counter(raw.decode().split(":", 1)[1].strip() for raw in ids)


def day_email(rig, user, day: int) -> bytes | None:
    """The day email in ``user``'s inbox, if it arrived."""
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["SUBJECT", f"Day {day} of"])
        return client.fetch(uids[:1], ["BODY.PEEK[]"])[uids[0]][b"BODY[]"] if uids else None


def walk(db, settings, rig, member, deliver, on_hour=lambda now: None) -> None:
    """Tick every hour for DAYS days; the member answers days 2 and 3 once they got them."""
    transport, owner = make_transport(settings, db), worker.worker_id()
    answered = set()
    try:
        for hour in range(DAYS * 24 + 12):
            now = START + timedelta(hours=hour)
            on_hour(now)
            for (day, client), text in REPLIES.items():
                raw = day_email(rig, member, day) if day not in answered and day <= DAYS else None
                if raw is not None:
                    deliver(compose_reply(raw, member.address, "Alice", text, client, now))
                    answered.add(day)
            worker.tick(db, transport, now, settings, owner)
    finally:
        transport.close()
    assert answered == {day for day, _ in REPLIES if day <= DAYS}


def started(home: Path, members: list[str]):
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for address in members:
        people.add_person(db, address, address.split("@")[0].title(), "Europe/London")
    start_challenge(db, challenge_file(home, members), START)
    return settings, db


def test_send_over_smtp_read_over_graph_through_the_worker(mail_rig, rig_users, tmp_path):
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    with GraphServer(mailer.address) as graph:
        home = write_rig_home(tmp_path / "home", mail_rig, mailer, transport={"send": "smtp", "read": "graph"},
                              graph={"endpoint": graph.endpoint, "auth": "none"})
        settings, db = started(home, [alice.address])
        assert settings.rate_limits == (0, 0)  # paced as the sender (a relay), not as the Graph mailbox
        assert isinstance(make_transport(settings, db), SplitTransport)
        dropped = []

        def drop_one(now) -> None:  # one day email's answer lost after the relay took it
            if now == START + timedelta(days=1, hours=8):
                mail_rig.drop_next(1, deliver=True)
                dropped.append(now)

        walk(db, settings, mail_rig, alice, graph.deliver, drop_one)

    assert graph.sent() == []  # nothing went out through the mailbox that reads
    copies = delivered(mail_rig, alice)
    assert len(copies) == outbox_store.counts(db)["sent"] and outbox_store.counts(db).get("unknown", 0) == 0
    assert sorted(copies.values())[-1] == 2 and sum(n == 2 for n in copies.values()) == 1  # the dropped one, resent
    assert journal_texts(db, alice.address) == {day: text for (day, _), text in ENTRIES.items() if day <= DAYS}
    assert graph.folder("inbox") == [] and len(graph.folder("Processed")) == 2


def test_an_uncertain_send_is_found_in_the_sent_items_of_the_mailbox_read(mail_rig, rig_users, tmp_path):
    # SMTP client submission to the very mailbox Graph reads keeps a copy in its Sent Items:
    # with sent_copy = "reader" the uncertain send is found there and not sent again.
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    with GraphServer(mailer.address) as graph:
        home = write_rig_home(tmp_path / "home", mail_rig, mailer,
                              transport={"send": "smtp", "read": "graph", "sent_copy": "reader"},
                              graph={"endpoint": graph.endpoint, "auth": "none"})
        settings, db = started(home, [alice.address])
        transport, day1 = make_transport(settings, db), START + timedelta(days=1, hours=8)
        worker.plan_due(db, day1, settings)
        mail_rig.drop_next(1, deliver=True)
        assert outbox.flush(db, transport, day1, settings, "w").unknown == 1  # one flush: left unknown
        row = outbox_store.list_rows(db, "unknown")[0]
        graph.box.add("sentitems", outbox_store.get_row(db, row["id"])["data"])  # the server's own copy
        worker.tick(db, transport, day1 + timedelta(minutes=1), settings, "w")
        transport.close()
    assert outbox_store.get_row(db, row["id"])["last_error"] == "found in Sent folder"
    assert set(delivered(mail_rig, alice).values()) == {1}


def test_send_through_a_relay_read_over_imap_settles_against_the_sent_folder(mail_rig, rig_users, tmp_path):
    # A relay that takes mail without a login, the service mailbox read over IMAP, and the
    # server's copy of what was sent kept in its Sent folder.
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    home = write_rig_home(tmp_path / "home", mail_rig, mailer,
                          transport={"send": "smtp", "read": "imap", "sent_copy": "reader"},
                          smtp={"user": ""}, imap={"sent_folder": "Sent"})
    with mail_rig.imap_client(mailer) as client:
        client.create_folder("Sent")
    settings, db = started(home, [alice.address])

    def deliver(raw: bytes) -> None:
        with mail_rig.imap_client(mailer) as client:
            client.append("INBOX", raw)

    def keep_copy(now) -> None:  # day 1's send is uncertain, and the server saved its copy
        if now != START + timedelta(days=1, hours=8):
            return
        worker.plan_due(db, now, settings)
        mail_rig.drop_next(1, deliver=True)
        transport = make_transport(settings, db)
        assert outbox.flush(db, transport, now, settings, "w").unknown == 1
        transport.close()
        for row in outbox_store.list_rows(db, "unknown"):
            with mail_rig.imap_client(mailer) as client:
                client.append("Sent", outbox_store.get_row(db, row["id"])["data"])

    walk(db, settings, mail_rig, alice, deliver, keep_copy)
    assert set(delivered(mail_rig, alice).values()) == {1}  # settled as sent: nobody got it twice
    assert [r["last_error"] for r in outbox_store.list_rows(db, "sent", 500)].count("found in Sent folder") == 1
    assert journal_texts(db, alice.address) == {day: text for (day, _), text in ENTRIES.items() if day <= DAYS}


@pytest.mark.parametrize("transport, words", [
    ({"send": "graph", "read": "maildir"}, "never in a local Maildir"),
    ({"send": "maildir", "read": "graph"}, "sends nothing"),
    ({"send": "graph", "read": "imap"}, "read = \"graph\""),
    ({"send": "exchange", "read": "graph"}, "same Exchange mailbox"),
    ({"send": "ses", "read": "graph"}, "is \"smtp\""),
    ({"send": "smtp", "read": "pop3"}, "expected one of imap, graph, exchange, maildir"),
    ({"send": "smtp"}, "transport.read is not"),
    ({"sent_copy": "reader"}, "only used with transport.send"),
    ({"send": "smtp", "read": "maildir", "sent_copy": "reader"}, "holds no copy"),
    ({"send": "smtp", "read": "imap", "sent_copy": "reader"}, "needs imap.sent_folder"),
])
def test_check_refuses_what_cannot_work_with_the_reason(tmp_path, transport, words):
    home = tmp_path / "home"
    home.mkdir()
    lines = ['[mailer]', 'data = "none"', '[transport]'] + [f'{k} = "{v}"' for k, v in transport.items()]
    (home / "mailer.toml").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["--home", str(home), "check"])
    assert result.exit_code == 1
    assert "FAIL" in result.output and words in result.output, result.output


def test_native_meetings_are_refused_when_another_transport_sends(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n[transport]\nsend = "smtp"\nread = "graph"\n'
                                      '[graph]\nauth = "none"\nnative_meetings = true\n')
    result = CliRunner().invoke(main, ["--home", str(home), "check"])
    assert result.exit_code == 1 and "graph.native_meetings = true needs" in result.output


def test_check_says_plainly_that_a_relay_keeps_no_copy(mail_rig, rig_users, tmp_path):
    mailer = rig_users["mailer"]
    with GraphServer(mailer.address) as graph:
        home = write_rig_home(tmp_path / "home", mail_rig, mailer, transport={"send": "smtp", "read": "graph"},
                              graph={"endpoint": graph.endpoint, "auth": "none"})
        result = CliRunner().invoke(main, ["--home", str(home), "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("transport smtp+graph\n")
    assert "keeps no copy of what it sends" in result.output and "may get it twice" in result.output
    assert f"SMTP {mail_rig.host}:{mail_rig.smtp_port}" in result.output  # the send line is the relay's
    assert graph.sent() == []


def test_send_through_a_relay_and_read_a_local_maildir(mail_rig, rig_users, tmp_path):
    # A local MTA delivers the service's replies into mail/inbox; a relay sends.
    from mailer.transports.maildir import deliver_to_inbox

    mailer, alice = rig_users["mailer"], rig_users["alice"]
    home = write_rig_home(tmp_path / "home", mail_rig, mailer, transport={"send": "smtp", "read": "maildir"})
    settings, db = started(home, [alice.address])
    transport = make_transport(settings, db)
    assert isinstance(transport, SplitTransport) and transport.find_sent("<x@example.test>") is None
    assert transport.remove_processed  # the Maildir's processed copies still expire (inbox.keep_raw_days)
    transport.close()
    walk(db, settings, mail_rig, alice, lambda raw: deliver_to_inbox(settings.mail_dir, raw))
    assert journal_texts(db, alice.address) == {day: text for (day, _), text in ENTRIES.items() if day <= DAYS}
    assert not list((settings.mail_dir / "outbox").glob("*/*"))  # nothing written where nothing is sent
