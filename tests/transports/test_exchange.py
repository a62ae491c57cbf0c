"""The Exchange transport through exchangelib over real HTTP, against the local EWS server.

The server (tests/ews_server.py) answers the SOAP operations from an in-memory mailbox; the
transport, exchangelib, requests and the outbox/inbox/worker above it are the real ones.
"""
from __future__ import annotations

import email
import email.policy
import os
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from mailer import inbox, outbox, worker
from mailer.config import load_settings
from mailer.errors import ConfigError, TemporarySendError, TransportError, UncertainSendError
from mailer.store import inbox as inbox_store
from mailer.store import open_db
from mailer.store import outbox as outbox_store
from mailer.store.sync_state import SyncState
from mailer.transports import make_transport
from mailer.transports.base import Outgoing
from mailer.transports.exchange import SYNC_KEY, ExchangeTransport
from mailer.transports.exchange_connect import ExchangeSettings
from tests.ews_server import EwsServer

MAILBOX = "cop@corp.example.com"
NOW = datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand; the transport times back-off hints with it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def write_home(home: Path, ews: EwsServer, **extra: str) -> Path:
    exchange = {"mailbox": MAILBOX, "endpoint": ews.url, "auth": "none", **extra}
    lines = ['[mailer]', 'data = "none"', f'address = "{MAILBOX}"', '[transport]', 'kind = "exchange"',
             '[exchange]'] + [f'{k} = "{v}"' for k, v in exchange.items()]
    (home / "mailer.toml").write_text("\n".join(lines) + "\n")
    return home


@pytest.fixture
def ex_settings(home, ews):
    return load_settings(write_home(home, ews), env={})


@pytest.fixture
def ex_db(ex_settings):
    database = open_db(ex_settings.db_path)
    yield database
    database.close()


@pytest.fixture
def transport(ex_settings, ex_db):
    built = make_transport(ex_settings, ex_db)
    yield built
    built.close()


def mail(n: int, to: str = "oliver@corp.example.com") -> Outgoing:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Practice <{MAILBOX}>", to, f"Day {n} of 30"
    msg["Message-ID"] = f"<day{n}.test@corp.example.com>"
    msg["X-Cop-Key"] = f"challenge:1:day:{n}"
    msg.set_content(f"Day {n}: write one line.")
    msg.add_alternative(f"<p>Day {n}: write <b>one</b> line.</p>", subtype="html")
    data = msg.as_bytes(policy=email.policy.SMTP)
    return Outgoing(msg["Message-ID"], MAILBOX, (to,), data)


def reply(n: int, sender: str = "oliver@corp.example.com") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, MAILBOX, f"Re: note {n}"
    msg["Message-ID"] = f"<reply{n}.{sender}>"
    msg.set_content(f"Reply number {n}.")
    return msg.as_bytes(policy=email.policy.SMTP)


def queue(db, n: int) -> int:
    out = mail(n)
    return outbox_store.enqueue_row(db, key=f"test:{n}", message_id=out.message_id, to_addr=out.recipients[0],
                                    subject=f"Day {n}", data=out.data, created_at=NOW)


def ingest(db, transport) -> inbox.InboxResult:
    result = inbox.InboxResult()
    inbox.ingest(db, transport, NOW, result)
    return result


# -- configuration ---------------------------------------------------------------------------
def test_kind_exchange_builds_the_exchange_transport(transport):
    assert isinstance(transport, ExchangeTransport)
    assert transport.kind == "exchange" and transport.keeps_sent


def test_secrets_come_from_the_environment_only(home, ews):
    write_home(home, ews, auth="ntlm", username="CORP\\\\svc-cop")
    settings = load_settings(home, env={"MAILER_EXCHANGE_PASSWORD": "s3cret"})
    assert make_transport(settings).settings.password == "s3cret"
    with pytest.raises(ConfigError, match="MAILER_EXCHANGE_PASSWORD"):
        make_transport(load_settings(home, env={}))
    (home / "mailer.toml").write_text((home / "mailer.toml").read_text() + 'password = "in the file"\n')
    with pytest.raises(ConfigError, match="unknown key exchange.password"):
        load_settings(home, env={})


def test_a_missing_mailbox_and_a_bad_version_are_named(home, ews):
    write_home(home, ews, mailbox="")
    with pytest.raises(ConfigError, match="exchange.mailbox"):
        make_transport(load_settings(home, env={}))
    write_home(home, ews, version="2016")
    with pytest.raises(ConfigError, match="exchange.version = '2016'"):
        make_transport(load_settings(home, env={}))


# -- sending ---------------------------------------------------------------------------------
def test_send_hands_over_our_own_bytes_and_keeps_a_copy_in_sent_items(transport, ews):
    out = mail(1)
    transport.send(out)
    assert ews.sent == [out.data]  # multipart, our Message-ID and our own header, untouched
    assert [i.message_id for i in ews.items("sentitems")] == [out.message_id]
    assert ews.requests.count("CreateItem") == 1
    assert transport.find_sent(out.message_id) is True
    assert transport.find_sent("<never.sent@corp.example.com>") is False


def test_an_error_after_sending_is_unknown_then_settled_through_sent_items(transport, ews, ex_db, ex_settings):
    row = queue(ex_db, 1)
    ews.fail_after_send()  # Exchange sends and files it, then the connection drops unanswered
    first = outbox.flush(ex_db, transport, NOW, ex_settings, "w1")
    assert (first.unknown, first.sent) == (1, 0)
    assert outbox_store.get_row(ex_db, row)["state"] == "unknown"
    second = outbox.flush(ex_db, transport, NOW + timedelta(minutes=1), ex_settings, "w1")
    assert second.reconciled == 1
    assert outbox_store.get_row(ex_db, row)["state"] == "sent"
    assert len(ews.sent) == 1  # found in Sent Items, so never sent twice


def test_uncertain_send_raises_uncertain(transport, ews):
    ews.fail_after_send()
    with pytest.raises(UncertainSendError):
        transport.send(mail(1))


def test_an_unknown_row_missing_from_sent_items_is_sent_again(transport, ews, ex_db, ex_settings):
    row = queue(ex_db, 2)
    ex_db.execute("UPDATE outbox SET state='unknown' WHERE id=?", [row])  # a worker died mid-send
    outbox.flush(ex_db, transport, NOW, ex_settings, "w1")
    assert outbox_store.get_row(ex_db, row)["state"] == "sent"
    assert len(ews.sent) == 1


# -- throttling ------------------------------------------------------------------------------
def test_a_throttled_send_waits_as_asked_and_never_dies(ex_settings, ex_db, ews):
    clock = Clock(NOW)
    transport = make_transport(ex_settings, ex_db)
    transport.clock = clock
    rows = [queue(ex_db, n) for n in (1, 2, 3)]
    for attempt in range(ex_settings.outbox_max_attempts + 2):  # more busy answers than attempts allowed
        ews.busy(1, back_off_ms=120_000)
        result = outbox.flush(ex_db, transport, clock.now, ex_settings, "w1")
        assert (result.sent, result.dead, result.retried) == (0, 0, 1)
        states = [outbox_store.get_row(ex_db, r) for r in rows]
        assert {s["state"] for s in states} == {"pending"} and {s["attempts"] for s in states} == {0}
        assert outbox_store.next_attempt_after(ex_db, clock.now) == clock.now + timedelta(seconds=120)
        asked = len(ews.requests)
        outbox.flush(ex_db, transport, clock.now + timedelta(seconds=60), ex_settings, "w1")
        assert len(ews.requests) == asked  # nothing due and nothing asked of the server meanwhile
        clock.now += timedelta(seconds=121)
    result = outbox.flush(ex_db, transport, clock.now, ex_settings, "w1")
    assert result.sent == 3 and len(ews.sent) == 3
    transport.close()


def test_the_worker_does_not_call_a_busy_server_again_before_its_hint(ex_settings, ex_db, ews):
    clock = Clock(NOW)
    transport = make_transport(ex_settings, ex_db)
    transport.clock = clock
    queue(ex_db, 1)
    ews.busy(1, back_off_ms=300_000)
    tick = worker.tick(ex_db, transport, NOW, ex_settings, "w1")  # the inbox read meets the busy answer
    assert tick.sent == 0 and any("busy" in note for note in tick.notes)
    asked = len(ews.requests)
    for minutes in (1, 2, 4):
        clock.now = NOW + timedelta(minutes=minutes)
        worker.tick(ex_db, transport, clock.now, ex_settings, "w1")
    assert len(ews.requests) == asked
    clock.now = NOW + timedelta(minutes=6)
    assert worker.tick(ex_db, transport, clock.now, ex_settings, "w1").sent == 1
    transport.close()


def test_a_busy_hint_is_honoured_by_every_process(ex_settings, ex_db, ews):
    clock = Clock(NOW)
    first = make_transport(ex_settings, ex_db)
    first.clock = clock
    ews.busy(1, back_off_ms=300_000)
    with pytest.raises(TemporarySendError):
        first.send(mail(1))
    first.close()
    other = make_transport(ex_settings, ex_db)  # a restarted worker, or `run.py flush`: same store
    other.clock = clock
    asked = len(ews.requests)
    with pytest.raises(TemporarySendError) as caught:
        other.send(mail(2))
    assert 0 < caught.value.retry_after <= 300 and len(ews.requests) == asked  # nothing asked
    clock.now = NOW + timedelta(minutes=6)
    other.send(mail(2))
    assert len(ews.sent) == 1
    other.close()


def test_a_short_busy_hint_is_slept_through_inside_the_call(transport, ews):
    ews.busy(1, back_off_ms=50)
    transport.send(mail(1))
    assert len(ews.sent) == 1


def test_a_long_busy_hint_is_a_temporary_error_with_the_delay(transport, ews):
    transport.account.sent  # connected first, so the busy answer meets CreateItem itself
    hook = ews.url.replace("/EWS/Exchange.asmx", "/_test/busy?times=1&ms=90000")
    assert requests.post(hook, timeout=5).status_code == 200  # the HTTP form of ews.busy()
    with pytest.raises(TemporarySendError) as caught:
        transport.send(mail(1))
    assert caught.value.retry_after == 90
    assert ews.sent == []


# -- reading ---------------------------------------------------------------------------------
def test_reading_is_incremental_across_restarts(ex_settings, ex_db, ews):
    for n in range(3):
        ews.deliver(reply(n))
    first = make_transport(ex_settings, ex_db)
    assert ingest(ex_db, first).fetched == 3
    assert ews.items("inbox") == [] and len(ews.folder_named("Processed").items) == 3
    first.close()
    for n in range(3, 5):
        ews.deliver(reply(n))
    second = make_transport(ex_settings, ex_db)  # a restarted worker: same store, new connection
    result = ingest(ex_db, second)
    assert (result.fetched, result.duplicates) == (2, 0)
    assert ingest(ex_db, second).fetched == 0
    assert sum(inbox_store.counts(ex_db).values()) == 5
    assert SyncState(ex_db).get(SYNC_KEY)
    assert ews.requests.count("CreateFolder") == 1  # made once, found by name afterwards
    second.close()


def test_items_stay_in_the_inbox_until_done(transport, ews):
    ews.deliver(reply(1))
    fetched = list(transport.fetch())
    assert len(fetched) == 1 and fetched[0].raw == reply(1)
    assert len(ews.items("inbox")) == 1  # read, not filed: the effect is not recorded yet
    transport.done(fetched[0])
    transport.done(fetched[0])  # twice is harmless
    assert ews.items("inbox") == []


def test_a_pass_that_stops_midway_is_read_again_without_double_handling(ex_db, transport, ews):
    for n in range(3):
        ews.deliver(reply(n))
    gen = transport.fetch()
    first = next(gen)
    inbox_store.store_raw(ex_db, "mid:x", first.transport_id, first.raw, "", "", NOW)
    gen.close()  # the worker died before filing anything away; the sync state was not saved
    assert SyncState(ex_db).get(SYNC_KEY) is None
    result = ingest(ex_db, transport)
    assert result.fetched == 2 and ews.items("inbox") == []
    assert sum(inbox_store.counts(ex_db).values()) == 3


def test_the_sync_state_advances_with_the_pass_that_kept_items(ex_db, transport, ews):
    # Issue 20: it advanced only after a pass that read nothing, so every pass re-read from the
    # last empty one.
    for n in range(3):
        ews.deliver(reply(n))
    fetched = list(transport.fetch())
    assert SyncState(ex_db).get(SYNC_KEY) is None and fetched[-1].position  # not kept yet: not saved
    result = inbox.InboxResult()
    inbox.ingest(ex_db, transport, NOW, result)
    assert result.duplicates == 0 and result.fetched == 3
    assert SyncState(ex_db).get(SYNC_KEY)  # saved with the batch that kept the items


def test_the_sync_state_advances_with_each_batch_kept(ex_db, transport, ews, monkeypatch):
    from mailer.transports import exchange

    monkeypatch.setattr(exchange, "SYNC_PAGE", 2)  # pages of 2 changes, batches of 2 messages
    monkeypatch.setattr(inbox, "BATCH", 2)
    for n in range(5):
        ews.deliver(reply(n))
    saved = []
    monkeypatch.setattr(transport, "_save_state", saved.append)
    assert ingest(ex_db, transport).fetched == 5
    assert len(saved) == 3 and len(set(saved)) == 3  # after each batch, not once at the end


def test_many_items_are_fetched_in_small_chunks(transport, ews):
    for n in range(25):
        ews.deliver(reply(n))
    assert len(list(transport.fetch())) == 25
    assert ews.requests.count("GetItem") == 3  # 10 + 10 + 5, never one bulk fetch (exchangelib #390)


def test_an_invalid_sync_state_starts_over_without_reprocessing(ex_db, transport, ews):
    ews.deliver(reply(1))
    ews.deliver(reply(2))
    assert ingest(ex_db, transport).fetched == 2
    ews.invalidate_sync_states()
    ews.deliver(reply(3))
    ews.deliver(reply(1))  # the same message again (a second copy): caught by its Message-ID
    result = ingest(ex_db, transport)
    assert (result.fetched, result.duplicates) == (1, 1)
    assert sum(inbox_store.counts(ex_db).values()) == 3
    assert ingest(ex_db, transport).fetched == 0


# -- check -----------------------------------------------------------------------------------
def test_check_says_what_works_and_sends_nothing(transport, ews):
    lines = transport.check()
    assert [line.what for line in lines] == ["log in", "read the inbox", "send", "calendar", "Sent folder"]
    assert all(line.ok for line in lines)
    assert "CreateItem" not in ews.requests and ews.sent == []


def test_check_reports_a_server_it_cannot_reach(home, ews):
    settings = load_settings(write_home(home, ews, endpoint="http://127.0.0.1:9/EWS/Exchange.asmx"), env={})
    lines = make_transport(settings).check()
    assert [(line.what, line.ok) for line in lines] == [("log in", False)]
    assert "cannot reach" in lines[0].detail


# -- live (opt-in) ---------------------------------------------------------------------------
LIVE = {key: os.environ.get(f"MAILER_EXCHANGE_LIVE_{key.upper()}", "") for key in (
    "mailbox", "endpoint", "auth", "username", "password", "client_id", "tenant_id", "client_secret", "version")}


@pytest.mark.skipif(not (LIVE["mailbox"] and (LIVE["password"] or LIVE["client_secret"])),
                    reason="live Exchange test: set MAILER_EXCHANGE_LIVE_MAILBOX and _PASSWORD (with _USERNAME, "
                           "_ENDPOINT, _AUTH=ntlm|basic) or _CLIENT_ID/_TENANT_ID/_CLIENT_SECRET (_AUTH=oauth2)")
def test_live_mailbox_checks_sends_to_itself_and_finds_it_in_sent_items():
    settings = ExchangeSettings(**{k: v for k, v in LIVE.items() if v}, source="environment")
    transport = ExchangeTransport(settings)
    try:
        lines = transport.check()
        assert all(line.ok for line in lines), lines
        out = mail(int(datetime.now(timezone.utc).timestamp()), to=settings.mailbox)
        transport.send(out)
        # Whether Exchange keeps every custom header is undocumented: this is where we find out.
        assert transport.find_sent(out.message_id) is True
    finally:
        transport.close()


# -- a challenge through the real worker -----------------------------------------------------
@pytest.mark.slow
def test_challenge_days_with_replies_through_the_worker(ex_settings, ex_db, ews, tmp_path):
    from mailer.flows.challenge.definition import start_challenge
    from mailer.simulation.replies import compose_reply
    from mailer.store import people
    from tests.test_challenge_e2e import ENTRIES, REPLIES, START, ZONES, challenge_file, day_emails, journal_texts

    zones = {f"{name}@corp.example.com": zone for name, zone in ZONES.items()}
    for address, zone in zones.items():
        people.add_person(ex_db, address, address.split("@")[0].title(), zone)
    start_challenge(ex_db, challenge_file(tmp_path, list(zones)), START)
    clock, oliver = Clock(START), "oliver@corp.example.com"
    transport = make_transport(ex_settings, ex_db)
    transport.clock = clock
    for hour in range(4 * 24 + 12):  # the day before day 1 to the evening of day 3, hour by hour
        clock.now = START + timedelta(hours=hour)
        if hour == 60:  # the worker restarts: a new transport on the same store
            transport.close()
            transport = make_transport(ex_settings, ex_db)
            transport.clock = clock
        worker.tick(ex_db, transport, clock.now, ex_settings, "w1")
        for (day, client), text in REPLIES.items():
            if day <= 3 and clock.now == datetime(2027, 1, 3, 12, tzinfo=timezone.utc) + timedelta(days=day):
                original = next(raw for raw in ews.sent if _is_day_email(raw, oliver, day))
                ews.deliver(compose_reply(original, oliver, "Oliver", text, client, clock.now))
    transport.close()
    sent = day_emails(ews.sent)
    for address in zones:
        days = sorted(day for day, _ in sent[address])
        assert days[:3] == [1, 2, 3] and len(days) == len(set(days)), (address, days)
    assert journal_texts(ex_db, oliver) == {day: text for (day, _), text in ENTRIES.items() if day <= 3}
    assert sum(inbox_store.counts(ex_db).values()) == 2  # each reply stored and handled once
    assert ews.items("inbox") == [] and len(ews.folder_named("Processed").items) == 2
    assert sorted(outbox_store.counts(ex_db)) == ["sent"]


def _is_day_email(raw: bytes, address: str, day: int) -> bool:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg["To"].addresses[0].addr_spec == address and msg["Subject"].startswith(f"Day {day} of")


def test_a_meeting_response_is_read_as_raw_mime_like_any_message(ex_db, transport, ews):
    rsvp = (b"From: oliver@corp.example.com\r\nTo: cop@corp.example.com\r\nSubject: Accepted: Meetup\r\n"
            b"Message-ID: <rsvp1@corp.example.com>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:meetup-1@cop\r\n"
            b"ATTENDEE;PARTSTAT=ACCEPTED:mailto:oliver@corp.example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    ews.deliver(rsvp, tag="MeetingResponse")
    fetched = list(transport.fetch())
    assert [f.raw for f in fetched] == [rsvp]  # the iMIP REPLY reaches the same inbox pipeline
    assert len(ews.items("inbox")) == 1  # not filed away, so the sync state stayed where it was
    assert ingest(ex_db, transport).fetched == 1
    assert ews.items("inbox") == [] and ingest(ex_db, transport).fetched == 0


def test_while_busy_no_read_search_or_filing_reaches_the_server(ex_settings, ex_db, ews):
    clock = Clock(NOW)
    transport = make_transport(ex_settings, ex_db)
    transport.clock = clock
    ews.deliver(reply(1))
    fetched = next(transport.fetch())
    ews.busy(1, back_off_ms=60_000)
    with pytest.raises(TransportError, match="busy"):
        transport.find_sent("<x@corp.example.com>")
    asked = len(ews.requests)
    for call in (lambda: transport.done(fetched), lambda: list(transport.fetch()),
                 lambda: transport.find_sent("<x@corp.example.com>")):
        with pytest.raises(TransportError, match="wait"):
            call()
    assert len(ews.requests) == asked
    clock.now += timedelta(seconds=61)
    transport.done(fetched)
    assert ews.items("inbox") == []
    transport.close()
