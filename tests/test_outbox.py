"""The outbox against a real SMTP server: retries, dead letters, uncertain sends, pacing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from mailer import outbox
from mailer.config import load_settings
from mailer.flows.base import PlannedEmail
from mailer.store import open_db, people
from mailer.store import outbox as store
from mailer.transports import make_transport
from tests.conftest import NOW, write_rig_home


def plans(to: str, n: int, prefix: str = "t") -> list[PlannedEmail]:
    return [PlannedEmail(key=f"{prefix}:{i}", to=to, subject=f"Message {i}", template="system/unrouted",
                         context={"their_subject": str(i)}) for i in range(n)]


@pytest.fixture
def rig_outbox(mail_rig, rig_users, tmp_path):
    """A factory for a home on the rig with extra settings; yields (settings, db, transport)."""
    opened = []

    def make(**sections):
        home = write_rig_home(tmp_path / f"home{len(opened)}", mail_rig, rig_users["mailer"], **sections)
        settings = load_settings(home, env={})
        db = open_db(settings.db_path)
        people.add_person(db, rig_users["alice"].address, "Alice", "UTC")
        people.add_person(db, rig_users["bob"].address, "Bob", "UTC")
        transport = make_transport(settings)
        opened.append((db, transport))
        return settings, db, transport

    yield make
    for db, transport in opened:
        transport.close()
        db.close()


def inbox_count(rig, user) -> int:
    with rig.imap_client(user) as client:
        return client.select_folder("INBOX", readonly=True)[b"EXISTS"]


@pytest.mark.rig
def test_a_4xx_is_retried_later_with_the_same_bytes(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox()
    outbox.enqueue(db, plans(rig_users["alice"].address, 1), NOW, settings)
    before = store.get_row(db, 1)["data"]
    mail_rig.fail_next(1, 451)
    result = outbox.flush(db, transport, NOW, settings, "w")
    row = store.get_row(db, 1)
    assert (result.retried, row["state"], row["attempts"]) == (1, "failed", 1)
    assert "451" in row["last_error"]
    assert outbox.flush(db, transport, NOW + timedelta(seconds=1), settings, "w").sent == 0  # backing off
    later = store.parse_ts(row["next_attempt_at"])
    assert NOW + timedelta(seconds=settings.outbox_backoff_seconds / 2) <= later
    assert outbox.flush(db, transport, later, settings, "w").sent == 1
    assert store.get_row(db, 1)["data"] == before
    assert inbox_count(mail_rig, rig_users["alice"]) == 1


@pytest.mark.rig
def test_a_5xx_is_dead_and_does_not_block_the_rest(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox()
    outbox.enqueue(db, plans(rig_users["alice"].address, 3), NOW, settings)
    mail_rig.fail_next(1, 550)
    result = outbox.flush(db, transport, NOW, settings, "w")
    assert (result.dead, result.sent) == (1, 2)
    assert store.counts(db) == {"dead": 1, "sent": 2}


@pytest.mark.rig
def test_after_max_attempts_a_row_is_set_aside(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox(outbox={"max_attempts": 3, "backoff_seconds": 1})
    outbox.enqueue(db, plans(rig_users["alice"].address, 1), NOW, settings)
    mail_rig.fail_next(3, 451)
    moment = NOW
    for _ in range(3):
        outbox.flush(db, transport, moment, settings, "w")
        moment += timedelta(hours=1)
    row = store.get_row(db, 1)
    assert row["state"] == "dead" and "gave up after 3 attempts" in row["last_error"]
    assert inbox_count(mail_rig, rig_users["alice"]) == 0


@pytest.mark.rig
def test_a_drop_after_data_is_unknown_then_found_in_sent_and_not_resent(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox(imap={"sent_folder": "Sent"})
    outbox.enqueue(db, plans(rig_users["alice"].address, 1), NOW, settings)
    mail_rig.drop_next(1, deliver=True)
    assert outbox.flush(db, transport, NOW, settings, "w").unknown == 1
    assert store.get_row(db, 1)["state"] == "unknown"
    with mail_rig.imap_client(rig_users["mailer"]) as client:  # the server kept its copy in Sent
        if not client.folder_exists("Sent"):
            client.create_folder("Sent")
        client.append("Sent", store.get_row(db, 1)["data"])
    result = outbox.flush(db, transport, NOW + timedelta(minutes=1), settings, "w")
    assert (result.reconciled, result.sent) == (1, 0)
    assert store.get_row(db, 1)["state"] == "sent"
    assert inbox_count(mail_rig, rig_users["alice"]) == 1


@pytest.mark.rig
def test_an_unknown_send_without_a_sent_copy_is_resent(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox(imap={"sent_folder": "Sent"})
    outbox.enqueue(db, plans(rig_users["alice"].address, 1), NOW, settings)
    mail_rig.drop_next(1, deliver=False)
    outbox.flush(db, transport, NOW, settings, "w")
    with mail_rig.imap_client(rig_users["mailer"]) as client:
        client.create_folder("Sent")
    result = outbox.flush(db, transport, NOW + timedelta(minutes=1), settings, "w")
    assert (result.reconciled, result.sent) == (1, 1)
    assert inbox_count(mail_rig, rig_users["alice"]) == 1


@pytest.mark.rig
def test_one_connection_serves_a_whole_flush(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox()
    outbox.enqueue(db, plans(rig_users["alice"].address, 20), NOW, settings)
    assert outbox.flush(db, transport, NOW, settings, "w").sent == 20
    assert mail_rig.smtp_sessions(settings.mailer_address) == 1


@pytest.mark.rig
def test_pacing_spreads_the_queue_and_status_says_when_it_drains(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox(transport={"pace": "custom", "per_minute": 5, "per_day": 12})
    outbox.enqueue(db, plans(rig_users["alice"].address, 20), NOW, settings)
    eta = outbox.drain_eta(db, NOW, settings)
    # 5 at 0, 5 at +1 min, 2 at +2 min; the day's 12 are used up: the first 5 free a day after they
    # went, 5 more go then and the last 3 a minute later.
    assert eta == NOW + timedelta(days=1, minutes=1)
    sent = [outbox.flush(db, transport, NOW + timedelta(seconds=s), settings, "w").sent
            for s in (0, 30, 61, 122, 183)]
    assert sent == [5, 0, 5, 2, 0]  # 5 a minute, then the day's 12 are used up
    assert outbox.flush(db, transport, NOW + timedelta(days=1, seconds=1), settings, "w").sent == 5
    assert store.sent_since(db, NOW) == 17


def test_exchange_online_preset_at_30_a_minute(db, settings, now, home):
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n[transport]\npace = "exchange-online"\n')
    paced = load_settings(home, env={})
    people.add_person(db, "a@corp.example.com", "A", "UTC")
    outbox.enqueue(db, plans("a@corp.example.com", 4200), now, paced)
    assert outbox.allowance(db, now, paced) == 30
    assert outbox.drain_eta(db, now, paced) == now + timedelta(minutes=139)  # 140 minutes of 30 each


def test_enqueue_is_idempotent_and_fixes_the_message_id(db, settings, now):
    people.add_person(db, "a@corp.example.com", "A", "UTC")
    assert outbox.enqueue(db, plans("a@corp.example.com", 3), now, settings) == 3
    first = {r["key"]: r["message_id"] for r in store.list_rows(db)}
    assert outbox.enqueue(db, plans("a@corp.example.com", 3), now + timedelta(hours=1), settings) == 0
    assert {r["key"]: r["message_id"] for r in store.list_rows(db)} == first


def test_unknown_people_are_not_mailed(db, settings, now):
    assert outbox.enqueue(db, plans("stranger@elsewhere.test", 1), now, settings) == 0
    assert store.counts(db) == {}


@pytest.mark.rig
def test_tls_with_a_company_ca_from_the_settings(mail_rig, rig_users, rig_outbox):
    settings, db, transport = rig_outbox(
        transport={"ca_file": str(mail_rig.ca_file)},
        smtp={"port": mail_rig.smtps_port, "security": "tls", "host": "localhost"},
        imap={"port": mail_rig.imaps_port, "security": "tls", "host": "localhost"})
    outbox.enqueue(db, plans(rig_users["alice"].address, 1), NOW, settings)
    assert outbox.flush(db, transport, NOW, settings, "w").sent == 1
    assert list(transport.fetch()) == []
    assert inbox_count(mail_rig, rig_users["alice"]) == 1
