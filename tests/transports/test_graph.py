"""The Graph transport over real HTTP against the local Graph in tests/graph_server.py.

Waiting for ``Retry-After`` goes through a recording clock, so throttling is tested without
sleeping; everything else is real: sockets, JSON, msal's token requests, SQLite.
"""
from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from mailer import inbox, outbox
from mailer.errors import TemporarySendError
from mailer.store import inbox as inbox_store
from mailer.store import outbox as outbox_store
from mailer.store.sync_state import SyncState
from mailer.transports.base import Outgoing
from mailer.transports.graph import STATE_KEY, GraphTransport
from mailer.transports.graph_http import MAX_THROTTLES, GraphSettings, MsalTokens
from tests.graph_server import GraphServer
from tests.graph_signin import AUTHORITY, CLIENT_ID, SECRET, TENANT, RewritingSession

MAILBOX = "cop@example.test"


class RecordingClock:
    """A monotonic clock that only moves when someone sleeps; it remembers every wait."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.t += seconds


@pytest.fixture
def graph():
    with GraphServer(MAILBOX) as server:
        yield server


def transport(server: GraphServer, db=None, page_size: int = 50, clock=None, **options) -> GraphTransport:
    settings = GraphSettings(mailbox=MAILBOX, endpoint=server.endpoint, auth="none", page_size=page_size)
    return GraphTransport(settings, SyncState(db) if db is not None else None, clock=clock or RecordingClock(),
                          **options)


def msal_transport(server: GraphServer, secret: str = SECRET, **options) -> GraphTransport:
    """Signs in with msal at the local token endpoint (an https authority rewritten to it)."""
    settings = GraphSettings(mailbox=MAILBOX, endpoint=server.endpoint, auth="client-secret",
                             tenant_id=TENANT, client_id=CLIENT_ID, client_secret=secret, authority=AUTHORITY)
    return GraphTransport(settings, tokens=MsalTokens(settings, RewritingSession(server.base)),
                          clock=RecordingClock(), **options)


def mime(message_id: str, subject: str = "Hello", to: str = "ana@corp.example.com") -> bytes:
    return (f"Message-ID: {message_id}\r\nFrom: Community <{MAILBOX}>\r\nTo: {to}\r\n"
            f"Subject: {subject}\r\nX-Cop-Key: challenge:1:day:1\r\n\r\nBody of {subject}\r\n").encode()


def outgoing(message_id: str, **kw) -> Outgoing:
    return Outgoing(message_id, MAILBOX, ("ana@corp.example.com",), mime(message_id, **kw))


def queue(db, now, message_id: str) -> None:
    outbox_store.enqueue_row(db, key=f"test:{message_id}", message_id=message_id, to_addr="ana@corp.example.com",
                             subject="Hello", data=mime(message_id), created_at=now, not_before=None)


# -- sending ----------------------------------------------------------------------------------

def test_send_keeps_our_bytes_and_lands_in_sent_items(graph):
    t = transport(graph)
    t.send(outgoing("<day1.ana@example.test>"))
    assert graph.sent() == [mime("<day1.ana@example.test>")]  # our Message-ID and headers, byte for byte
    assert t.find_sent("<day1.ana@example.test>") is True
    assert t.find_sent("<other@example.test>") is False


def test_find_sent_quotes_an_apostrophe_in_the_message_id(graph):
    t = transport(graph)
    t.send(outgoing("<o'brien.1@example.test>"))
    assert t.find_sent("<o'brien.1@example.test>") is True
    assert t.find_sent("o'brien.1@example.test") is True  # angle brackets added as Graph stores them


def test_send_to_a_closed_port_is_temporary(graph):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = GraphSettings(mailbox=MAILBOX, endpoint=f"http://127.0.0.1:{port}/v1.0", auth="none", timeout=5)
    with pytest.raises(TemporarySendError, match="cannot connect"):
        GraphTransport(settings).send(outgoing("<x@example.test>"))


def test_dropped_answer_leaves_unknown_then_sent_by_reconciling(graph, db, settings, now):
    t = transport(graph, db)
    queue(db, now, "<dropped@example.test>")
    graph.drop_next_send()
    first = outbox.flush(db, t, now, settings, "w1")
    assert (first.sent, first.unknown) == (0, 1)
    assert outbox_store.counts(db) == {"unknown": 1}
    second = outbox.flush(db, t, now + timedelta(minutes=1), settings, "w1")
    assert second.reconciled == 1
    assert outbox_store.counts(db) == {"sent": 1}
    assert len(graph.sent()) == 1  # found in Sent Items: not sent a second time


def test_unknown_not_in_sent_items_is_sent_again(graph, db, settings, now):
    t = transport(graph, db)
    queue(db, now, "<lost@example.test>")
    outbox_store.claim(db, "w1", now, 300, 10)
    outbox_store.finish(db, 1, "w1", "unknown", now, error="connection lost")
    outbox.flush(db, t, now, settings, "w1")
    assert outbox_store.counts(db) == {"sent": 1}
    assert [m.internet_message_id for m in graph.folder("sentitems")] == ["<lost@example.test>"]


# -- reading ----------------------------------------------------------------------------------

def deliver(graph: GraphServer, n: int, start: int = 0) -> list[str]:
    return [graph.deliver(mime(f"<reply{i}@corp.example.com>", subject=f"Re: {i}", to=MAILBOX))
            for i in range(start, start + n)]


def ingest(db, t, now) -> inbox.InboxResult:
    result = inbox.InboxResult()
    inbox.ingest(db, t, now, result)
    return result


def stored_message_ids(db) -> list[str]:
    return [row["dedupe_key"] for row in db.query("SELECT dedupe_key FROM inbox ORDER BY id")]


def test_reading_pages_across_restarts_handles_each_message_once(graph, db, now):
    deliver(graph, 7)
    assert ingest(db, transport(graph, db, page_size=3), now).fetched == 7
    assert SyncState(db).get(STATE_KEY) is not None
    deliver(graph, 4, start=7)
    restarted = transport(graph, db, page_size=3)  # a new process: the delta link comes from the store
    result = ingest(db, restarted, now)
    assert (result.fetched, result.duplicates) == (4, 0)
    assert stored_message_ids(db) == [f"mid:<reply{i}@corp.example.com>" for i in range(11)]
    assert graph.folder("inbox") == [] and len(graph.folder("Processed")) == 11
    reads = [path for method, path in graph.box.log if path.endswith("$value")]
    assert len(reads) == len(set(reads)) == 11  # no message read twice
    assert ingest(db, restarted, now).fetched == 0


def test_a_round_cut_short_is_replayed_without_acting_twice(graph, db, now):
    deliver(graph, 5)
    t = transport(graph, db, page_size=2)
    for n, fetched in enumerate(t.fetch()):  # the worker dies after storing three
        inbox_store.store_raw(db, f"id{n}", fetched.transport_id, fetched.raw, "", "", now)
        if n < 2:
            t.done(fetched)
        if n == 2:
            break
    assert SyncState(db).get(STATE_KEY) is None  # the round was not finished: no link saved
    result = ingest(db, transport(graph, db, page_size=2), now)
    assert result.fetched == 2  # the third was stored, not moved: recognised by its id, now moved
    assert len(stored_message_ids(db)) == 5
    assert graph.folder("inbox") == [] and len(graph.folder("Processed")) == 5


def test_a_round_read_whole_but_not_kept_is_read_again(graph, db, now):
    # Issue 20: 20 replies fetched, the tick killed before the inbox kept any; the delta link
    # had been saved as the round ended, and no later round ever read them again.
    deliver(graph, 20)
    fetched = list(transport(graph, db, page_size=7).fetch())  # all read, none kept: then the kill
    assert len(fetched) == 20 and SyncState(db).get(STATE_KEY) is None
    assert [f.position is not None for f in fetched] == [False] * 19 + [True]  # only the last carries it
    assert ingest(db, transport(graph, db, page_size=7), now).fetched == 20
    assert SyncState(db).get(STATE_KEY) is not None  # saved once the batch was kept
    assert graph.folder("inbox") == [] and len(graph.folder("Processed")) == 20
    assert ingest(db, transport(graph, db), now).fetched == 0


def test_expired_delta_link_starts_a_new_round_without_reprocessing(graph, db, now):
    deliver(graph, 3)
    t = transport(graph, db)
    for fetched in t.fetch():  # stored, but the moves never happened (a crash)
        inbox_store.store_raw(db, "mid:" + fetched.raw.split(b"\r\n")[0].decode()[12:], fetched.transport_id,
                              fetched.raw, "", "", now)
    deliver(graph, 2, start=3)
    graph.expire_delta()
    result = ingest(db, transport(graph, db), now)
    assert result.fetched == 2  # the three replayed by the new round are recognised, only moved
    assert len(stored_message_ids(db)) == 5
    assert graph.folder("inbox") == [] and len(graph.folder("Processed")) == 5
    assert ingest(db, transport(graph, db), now).fetched == 0  # the new round's link was saved


def test_removed_entries_and_vanished_messages_are_skipped(graph, db, now):
    deliver(graph, 2)
    t = transport(graph, db)
    assert ingest(db, t, now).fetched == 2  # moved: the next round reports them as @removed
    deliver(graph, 3, start=2)
    round_ = t.fetch()
    first = next(round_)  # the round is listed; the first message read (and the next, ahead)
    assert b"<reply2@" in first.raw and first.position is None
    with graph.box.lock:  # someone deletes the last one before we read it
        del graph.box.items[graph.folder("inbox")[-1].id]
    rest = list(round_)  # skipped (404), not an error; the link rides on the last one read
    assert [b"<reply3@" in f.raw for f in rest] == [True] and rest[0].position is not None
    assert SyncState(db).get(STATE_KEY) != rest[0].position  # saved only once the inbox kept them
    t.commit(rest[0].position)
    assert SyncState(db).get(STATE_KEY) == rest[0].position


def test_processed_folder_created_once_and_a_race_is_looked_up(graph, db, now):
    deliver(graph, 1)
    ingest(db, transport(graph, db), now)
    assert list(graph.box.folders.values()).count("Processed") == 1
    graph.box.hide_folders_once = True  # another worker created it right after our look-up
    deliver(graph, 1, start=1)
    ingest(db, transport(graph, db), now)
    assert list(graph.box.folders.values()).count("Processed") == 1
    assert len(graph.folder("Processed")) == 2
    assert ("POST", "mailFolders") in graph.box.log


def test_a_processed_folder_deleted_by_someone_is_made_again(graph, db, now):
    t = transport(graph, db)
    deliver(graph, 1)
    ingest(db, t, now)
    with graph.box.lock:  # a person tidies the mailbox: the folder and what it held are gone
        for item in graph.folder("Processed"):
            del graph.box.items[item.id]
        graph.box.folders = {f: n for f, n in graph.box.folders.items() if n != "Processed"}
    deliver(graph, 1, start=1)
    assert ingest(db, t, now).fetched == 1
    assert graph.folder("inbox") == [] and len(graph.folder("Processed")) == 1


# -- throttling -------------------------------------------------------------------------------

def test_throttled_reads_wait_retry_after_then_go_on(graph, db, now):
    deliver(graph, 2)
    clock = RecordingClock()
    graph.throttle(2, retry_after=7)
    assert ingest(db, transport(graph, db, clock=clock), now).fetched == 2
    assert clock.waits == [7, 7]
    assert graph.box.throttle[0] == 0


def test_503_with_retry_after_is_honoured_too(graph):
    clock = RecordingClock()
    graph.throttle(1, retry_after=3, status=503)
    transport(graph, clock=clock).send(outgoing("<busy@example.test>"))
    assert clock.waits == [3] and len(graph.sent()) == 1


def test_a_long_throttle_makes_sends_later_without_asking_again(graph, db, settings, now):
    clock, moment = RecordingClock(), [now]
    t = transport(graph, db, clock=clock, now=lambda: moment[0])
    graph.throttle(1, retry_after=600)
    for n in range(3):
        queue(db, now, f"<t{n}@example.test>")
    result = outbox.flush(db, t, now, settings, "w1")
    assert (result.sent, result.dead) == (0, 0)  # later, never dead
    rows = outbox_store.list_rows(db)
    assert {(r["state"], r["attempts"]) for r in rows} == {("pending", 0)}  # waiting is no attempt
    assert graph.box.throttle[0] == 0 and graph.sent() == [] and clock.waits == []
    requests = len(graph.box.log)
    other = transport(graph, db, now=lambda: moment[0])  # another process: the wait is in the store
    with pytest.raises(TemporarySendError) as refused:
        other.send(outgoing("<other@example.test>"))
    assert refused.value.retry_after == 600 and len(graph.box.log) == requests  # nothing asked
    moment[0] = now + timedelta(seconds=600)
    other.send(outgoing("<after@example.test>"))
    assert len(graph.sent()) == 1


def test_throttling_that_goes_on_gives_up_after_a_few_waits(graph):
    clock = RecordingClock()
    graph.throttle(10, retry_after=5)
    with pytest.raises(TemporarySendError, match="throttling"):
        transport(graph, clock=clock).send(outgoing("<many@example.test>"))
    assert clock.waits == [5] * MAX_THROTTLES
    assert graph.box.throttle[0] == 10 - (MAX_THROTTLES + 1)


# -- signing in -------------------------------------------------------------------------------

def test_token_is_cached_and_a_401_refreshes_it_once(graph):
    graph.box.auth_required = True
    t = msal_transport(graph)
    t.send(outgoing("<a@example.test>"))
    t.send(outgoing("<b@example.test>"))
    assert graph.box.token_requests == 1  # msal's cache
    graph.revoke_tokens()
    t.send(outgoing("<c@example.test>"))
    assert graph.box.token_requests == 2 and len(graph.sent()) == 3


def test_a_token_refused_again_after_refreshing_is_temporary(graph):
    graph.box.auth_required = True
    graph.box.token_lifetime = -1  # every token is already expired for Graph (but not for msal)
    t = msal_transport(graph)
    with pytest.raises(TemporarySendError, match="401 InvalidAuthenticationToken"):
        t.send(outgoing("<a@example.test>"))
    assert graph.box.token_requests == 2 and graph.sent() == []  # one refresh, no loop


def test_a_token_close_to_expiry_is_refreshed_before_use(graph):
    graph.box.auth_required = True
    graph.box.token_lifetime = 240  # under msal's 5-minute margin
    t = msal_transport(graph)
    t.send(outgoing("<a@example.test>"))
    t.send(outgoing("<b@example.test>"))
    assert graph.box.token_requests == 2


def test_certificate_sign_in(graph, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    import datetime as dt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cop-mailer")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem + cert_pem)
    graph.box.auth_required, graph.box.certificate_pem = True, cert_pem
    settings = GraphSettings(mailbox=MAILBOX, endpoint=graph.endpoint, auth="certificate", tenant_id=TENANT,
                             client_id=CLIENT_ID, certificate_path=str(path), authority=AUTHORITY)
    t = GraphTransport(settings, tokens=MsalTokens(settings, RewritingSession(graph.base)))
    t.send(outgoing("<cert@example.test>"))
    assert len(graph.sent()) == 1


# -- check ------------------------------------------------------------------------------------

def test_check_says_what_works_and_sends_nothing(graph):
    graph.box.auth_required = True
    lines = {line.what: line for line in msal_transport(graph).check()}
    assert [w for w, line in lines.items() if line.ok] == ["log in", "read the inbox", "Sent folder", "send"]
    assert "Mail.Send" in lines["send"].detail
    assert graph.sent() == []


def test_check_reports_a_wrong_secret_and_a_missing_permission(graph):
    graph.box.auth_required = True
    [line] = msal_transport(graph, secret="wrong").check()
    assert (line.what, line.ok) == ("log in", False) and "invalid_client" in line.detail
    graph.box.roles = ["Mail.ReadWrite"]
    lines = {line.what: line for line in msal_transport(graph).check()}
    assert lines["read the inbox"].ok and not lines["send"].ok
    assert "not Mail.Send" in lines["send"].detail
    graph.box.roles = []  # granted in Exchange (RBAC for Applications): not visible in the token
    lines = {line.what: line for line in msal_transport(graph).check()}
    assert lines["send"].ok and "RBAC for Applications" in lines["send"].detail


def test_check_tries_the_calendar_with_native_meetings(graph):
    settings = GraphSettings(mailbox=MAILBOX, endpoint=graph.endpoint, auth="none", native_meetings=True)
    lines = GraphTransport(settings).check()
    assert lines[-1].what == "calendar" and lines[-1].ok
    wrong = GraphSettings(mailbox="other@example.test", endpoint=graph.endpoint, auth="none")
    inbox_line = GraphTransport(wrong).check()[1]
    assert not inbox_line.ok and "ErrorInvalidUser" in inbox_line.detail
