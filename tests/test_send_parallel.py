"""Several SMTP connections at once (``[smtp] connections = N``, issue 24 "Any SMTP relay"):
each email goes once, over more than one connection, and a kill -9 in the middle loses
nothing and sends nothing twice but what was in flight (settled as ``unknown``)."""
from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta

import pytest

from mailer import outbox, pacing
from mailer.config import load_settings
from mailer.faults import KILL_AT
from mailer.outbox_sent import GROUP
from mailer.flows.base import PlannedEmail
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from mailer.transports import make_transport
from mailer.transports.smtp_pool import SmtpPool
from tests.test_inbox_crash import tick
from tests.test_worker_crash import T0, message_ids_in, queued


def expected_ids(db, count: int) -> set[str]:
    return {outbox_store.get_row(db, i)["message_id"] for i in range(1, count + 1)}


@pytest.mark.rig
def test_three_connections_send_each_email_once_and_go_on_while_one_waits(mail_rig, rig_users, tmp_path):
    home, settings, db = queued(tmp_path, mail_rig, rig_users, 120, smtp={"connections": 3})
    transport = make_transport(settings, db)
    assert isinstance(transport.sender, SmtpPool) and transport.parallel == 3
    held = mail_rig.hold(after=0)  # the first email's answer waits until released

    def flush() -> None:  # in a thread of its own, with a connection of its own (SQLite's rule)
        own = open_db(settings.db_path)
        outbox.flush(own, transport, T0, settings, "w")
        own.close()

    flushing = threading.Thread(target=flush)
    flushing.start()
    try:
        assert held.reached.wait(60)
        before = len(mail_rig.relay.stats.delivered)
        while len(mail_rig.relay.stats.delivered) < before + 20 and flushing.is_alive():
            time.sleep(0.05)  # the other connections deliver while the first one waits
        assert len(mail_rig.relay.stats.delivered) >= before + 20
    finally:
        held.release.set()
        flushing.join(120)
    transport.close()
    assert outbox_store.counts(db) == {"sent": 120}
    delivered = message_ids_in(mail_rig, rig_users["alice"])
    assert set(delivered) == expected_ids(db, 120) and set(delivered.values()) == {1}
    assert 2 <= mail_rig.smtp_sessions(rig_users["mailer"].address) <= 3


@pytest.mark.rig
@pytest.mark.slow
def test_kill_9_while_four_connections_send_loses_nothing(mail_rig, rig_users, tmp_path):
    count = 600
    home, settings, db = queued(tmp_path, mail_rig, rig_users, count, smtp={"connections": 4},
                                outbox={"lease_seconds": 5, "batch": 5000})
    killed = tick(home, T0, {KILL_AT: "sent@130"})  # 130 sends answered, the batch's others on the wire
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, err.decode()
    outbox_store.settle_sent(db)  # what the restart does first: sends recorded before the kill count as sent
    in_flight = {r["message_id"] for r in outbox_store.list_rows(db, "sending", count)}
    # sends are recorded in groups (mailer/outbox_sent.py): the last ones answered may not be yet
    assert in_flight and 130 - GROUP <= outbox_store.counts(db)["sent"] <= 130 < count

    restarted = tick(home, T0 + timedelta(minutes=1))
    _, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err.decode()
    assert outbox_store.counts(db) == {"sent": count}
    delivered = message_ids_in(mail_rig, rig_users["alice"])
    assert set(delivered) == expected_ids(db, count), "an email was lost"
    assert {mid for mid, n in delivered.items() if n > 1} <= in_flight, "only an email in flight may arrive twice"
    assert max(delivered.values()) <= 2


def test_a_custom_pace_with_a_per_second_rate(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text('[transport]\npace = "custom"\nper_second = 14\nper_day = 50000\n')
    settings = load_settings(home, env={})
    wins = pacing.pace_windows(settings)
    assert wins == [(timedelta(seconds=1), 14), (timedelta(days=1), 50_000)]
    sent = [T0 + timedelta(milliseconds=50 * n) for n in range(14)]  # 14 in the first 0.7 s
    later = T0 + timedelta(milliseconds=700)
    assert pacing.room(sent, later, wins) == 0
    assert pacing.next_room_at(sent, later, wins) == T0 + timedelta(seconds=1)  # the first leaves the second
    assert pacing.drain_at([], 140, T0, wins) == T0 + timedelta(seconds=9)  # 10 seconds' worth, from 0 s


def test_a_per_second_rate_only_counts_with_a_custom_pace(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text('[transport]\npace = "exchange-online"\nper_second = 14\n')
    assert pacing.pace_windows(load_settings(home, env={})) == [(timedelta(minutes=1), 30), (timedelta(days=1), 10_000)]


def test_the_outbox_sends_no_faster_than_the_per_second_rate(tmp_path, settings, db, now):
    from mailer.transports.maildir import MaildirTransport

    home = settings.home
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n[transport]\npace = "custom"\nper_second = 5\n')
    paced = load_settings(home, env={})
    people.add_person(db, "ann@example.test", "Ann", "UTC")
    plans = [PlannedEmail(key=f"p:{i}", to="ann@example.test", subject=str(i), template="system/unrouted",
                          context={"their_subject": str(i)}) for i in range(12)]
    outbox.enqueue(db, plans, now, paced)
    transport = MaildirTransport(paced.mail_dir)
    first = outbox.flush(db, transport, now, paced, "w")
    assert first.sent == 5 and first.held_by_pace == 7
    assert outbox.next_send_at(db, now, paced) == now + timedelta(seconds=1)
    assert outbox.flush(db, transport, now + timedelta(seconds=1), paced, "w").sent == 5


@pytest.mark.rig
def test_a_stop_asked_for_mid_batch_gives_back_the_sends_not_started(mail_rig, rig_users, tmp_path):
    home, settings, db = queued(tmp_path, mail_rig, rig_users, 50, smtp={"connections": 3})
    transport, done = make_transport(settings, db), []
    result = outbox.flush(db, transport, T0, settings, "w", should_stop=lambda: len(done) >= 5,
                          progress=done.append)
    transport.close()
    counts = outbox_store.counts(db)
    assert 5 <= result.sent == counts["sent"] < 50 and counts["sent"] + counts["pending"] == 50  # none left sending
    delivered = message_ids_in(mail_rig, rig_users["alice"])
    assert len(delivered) == counts["sent"] and set(delivered.values()) == {1}


@pytest.mark.rig
def test_an_email_over_the_relays_size_goes_without_attachments_beside_the_parallel_ones(mail_rig, rig_users,
                                                                                       tmp_path):
    from tests.outbound.test_size_limit import parts, queue_summary

    home, settings, db = queued(tmp_path, mail_rig, rig_users, 20, smtp={"connections": 3})
    row = queue_summary(db, settings, T0, 2_600_000, to=rig_users["alice"].address)
    transport = make_transport(settings, db)
    assert transport.max_message_bytes == mail_rig.data_size_limit  # the rig's EHLO SIZE
    result = outbox.flush(db, transport, T0, settings, "w")
    transport.close()
    assert (result.sent, result.dead) == (21, 0)
    names, text, _ = parts(outbox_store.get_row(db, row["id"])["data"])
    assert names == [] and "too large to send with its attachments" in text
    assert set(message_ids_in(mail_rig, rig_users["alice"]).values()) == {1}


@pytest.mark.rig
def test_check_says_how_many_connections_send(mail_rig, rig_users, tmp_path):
    from click.testing import CliRunner

    from mailer.cli import main

    home, settings, db = queued(tmp_path, mail_rig, rig_users, 1, smtp={"connections": 3})
    result = CliRunner().invoke(main, ["--home", str(home), "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("transport smtp-imap\n")
    assert "connections: sends over up to 3 SMTP connections at once" in result.output
    assert outbox_store.counts(db) == {"pending": 1}  # check sends nothing


def test_a_relay_that_cannot_be_reached_leaves_every_email_to_retry(tmp_path, now):
    from tests.rig_servers import free_port

    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text(f'[mailer]\ndata = "none"\n[transport]\nkind = "smtp-imap"\n[smtp]\n'
                                      f'host = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\nconnections = 3\n')
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    people.add_person(db, "ann@example.test", "Ann", "UTC")
    outbox.enqueue(db, [PlannedEmail(key=f"r:{i}", to="ann@example.test", subject=str(i), template="system/unrouted",
                                     context={"their_subject": str(i)}) for i in range(5)], now, settings)
    transport = make_transport(settings, db)
    result = outbox.flush(db, transport, now, settings, "w")
    transport.close()
    assert (result.sent, result.retried) == (0, 5) and outbox_store.counts(db) == {"failed": 5}
