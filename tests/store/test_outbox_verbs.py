"""The outbox's named verbs, each on both sides of its rule: what pacing counts as sent, which
rows a claim takes, what a lease protects. Written against the survivors of a mutmut run over
mailer/store/outbox.py (docs/testing.md)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.errors import NotFoundError
from mailer.store import outbox, people


def add(db, key, now, to="a@x.test", data=b"bytes", **kw):
    return outbox.enqueue_row(db, key=key, message_id=f"<{key}@x>", to_addr=to, subject=f"s {key}",
                              data=data, created_at=now, **kw)


def lease(db, key, now, owner="w1"):
    add(db, key, now)
    return outbox.claim(db, owner, now, 60, 1)[0]


@pytest.mark.parametrize("state", ["failed", "dead", "unknown", "pending"])
def test_only_a_send_stamps_sent_at(db, now, state):
    row = lease(db, "k", now)
    assert outbox.finish(db, row["id"], "w1", state, now, error="boom")
    assert outbox.key_sent_at(db, "k") is None
    assert outbox.sent_since(db, now - timedelta(hours=1)) == 0
    assert outbox.sent_after(db, now - timedelta(hours=1)) == 0
    assert outbox.counts(db) == {state: 1}
    assert outbox.get_row(db, row["id"])["last_error"] == "boom"


def test_finish_keeps_the_attempt_time_when_none_is_given_and_sets_it_when_given(db, now):
    row = lease(db, "k", now)
    later = now + timedelta(minutes=5)
    assert outbox.finish(db, row["id"], "w1", "failed", now, error="x", next_attempt=later)
    assert outbox.next_attempt_after(db, now) == later
    assert outbox.claim(db, "w2", now, 60, 5) == []
    again = outbox.claim(db, "w2", later, 60, 5)
    assert [r["key"] for r in again] == ["k"] and again[0]["attempts"] == 2


def test_finish_releases_the_lease(db, now):
    row = lease(db, "k", now)
    outbox.finish(db, row["id"], "w1", "failed", now, next_attempt=now)
    assert outbox.in_flight(db) == []
    assert outbox.finish(db, row["id"], "w1", "sent", now) is False  # no longer 'sending'


def test_claim_returns_the_bytes_and_takes_failed_rows_but_not_sent_dead_or_later_ones(db, now):
    add(db, "a", now, data=b"A")
    add(db, "later", now, not_before=now + timedelta(seconds=1))
    outbox.add_dead(db, key="dead", message_id="<d@x>", to_addr="d@x.test", subject="d", created_at=now,
                    reason="could not be built")
    rows = outbox.claim(db, "w1", now, 60, 10)
    assert [(r["key"], r["data"], r["attempts"], r["to_addr"], r["subject"]) for r in rows] == [
        ("a", b"A", 1, "a@x.test", "s a")]
    outbox.finish(db, rows[0]["id"], "w1", "failed", now, next_attempt=now)
    assert [r["key"] for r in outbox.claim(db, "w2", now, 60, 10)] == ["a"]
    assert outbox.claim(db, "w3", now, 60, 0) == []


def test_claim_takes_the_earliest_due_first_then_the_oldest(db, now):
    add(db, "second", now, not_before=now + timedelta(seconds=2))
    add(db, "first", now, not_before=now + timedelta(seconds=1))
    add(db, "third", now, not_before=now + timedelta(seconds=2))
    later = now + timedelta(seconds=5)
    assert [r["key"] for r in outbox.claim(db, "w", later, 60, 1)] == ["first"]
    assert [r["key"] for r in outbox.claim(db, "w", later, 60, 1)] == ["second"]
    assert [r["key"] for r in outbox.claim(db, "w", later, 60, 1)] == ["third"]


def test_a_lease_lasts_its_seconds(db, now):
    lease(db, "k", now)
    assert outbox.expire_leases(db, now + timedelta(seconds=59)) == 0
    assert outbox.expire_leases(db, now + timedelta(seconds=60)) == 1
    assert outbox.counts(db) == {"unknown": 1}


def logged(db, row_id, owner, now):
    """A send logged as a worker before the grouped records logged it (one row per email)."""
    db.execute("INSERT INTO outbox_sent_log (row_id, owner, sent_at) VALUES (?, ?, ?)",
               [row_id, owner, outbox.ts_ms(now)])


def test_a_logged_send_is_settled_only_for_the_lease_holder(db, now):
    mine, stolen = lease(db, "mine", now), lease(db, "stolen", now, owner="w2")
    logged(db, mine["id"], "w1", now)
    logged(db, stolen["id"], "w1", now)  # not w1's lease
    assert outbox.settle_sent(db) == 1
    assert outbox.key_sent_at(db, "mine") == now.replace(microsecond=0)
    assert outbox.key_sent_at(db, "stolen") is None
    assert outbox.settle_sent(db) == 0  # the log is emptied


def test_expiring_leases_settles_logged_sends_first(db, now):
    row = lease(db, "k", now)
    logged(db, row["id"], "w1", now)
    assert outbox.expire_leases(db, now + timedelta(hours=1)) == 0
    assert outbox.counts(db) == {"sent": 1}


def test_postpone_gives_the_attempt_back(db, now):
    row = lease(db, "k", now)
    until = now + timedelta(minutes=10)
    assert outbox.postpone(db, row["id"], "w1", until, "server busy")
    assert outbox.postpone(db, row["id"], "w1", until, "again") is False
    got = outbox.get_row(db, row["id"])
    assert (got["state"], got["attempts"], got["last_error"]) == ("pending", 0, "server busy")
    assert outbox.next_attempt_after(db, now) == until


def test_postpone_needs_the_lease(db, now):
    row = lease(db, "k", now)
    assert outbox.postpone(db, row["id"], "intruder", now, "x") is False
    assert outbox.counts(db) == {"sending": 1}


def test_resolve_unknown_to_sent_stamps_and_to_pending_does_not(db, now):
    for key in ("found", "lost"):
        lease(db, key, now)
    outbox.expire_leases(db, now + timedelta(hours=1))
    rows = {r["key"]: r for r in outbox.unknown_rows(db)}
    assert set(rows) == {"found", "lost"} and rows["found"]["message_id"] == "<found@x>"
    outbox.resolve_unknown(db, rows["found"]["id"], "sent", now, "in Sent")
    outbox.resolve_unknown(db, rows["lost"]["id"], "pending", now, "not in Sent")
    assert outbox.key_sent_at(db, "found") == now.replace(microsecond=0)
    assert outbox.key_sent_at(db, "lost") is None
    assert outbox.due_count(db, now) == 1


def test_sent_since_and_after_differ_at_the_boundary(db, now):
    row = lease(db, "k", now)
    outbox.finish(db, row["id"], "w1", "sent", now)
    moment = now.replace(microsecond=0)
    assert outbox.sent_since(db, moment) == 1
    assert outbox.sent_after(db, moment) == 0
    assert outbox.sent_after(db, moment - timedelta(milliseconds=1)) == 1
    assert outbox.send_times_after(db, moment - timedelta(seconds=1)) == [moment]
    assert outbox.send_times_after(db, moment) == []


def test_sent_between_is_half_open_and_only_sent_rows(db, now):
    row = lease(db, "k", now)
    outbox.finish(db, row["id"], "w1", "sent", now)
    add(db, "pending", now)
    moment = now.replace(microsecond=0)
    got = outbox.sent_between(db, moment, moment + timedelta(seconds=1))
    assert [(r["key"], r["data"], r["to_addr"]) for r in got] == [("k", b"bytes", "a@x.test")]
    assert outbox.sent_between(db, moment - timedelta(seconds=1), moment) == []


def test_the_sent_stream_gives_the_same_rows_in_order_a_batch_at_a_time(db, now):
    for n in range(5):
        row = lease(db, f"k{n}", now)
        outbox.finish(db, row["id"], "w1", "sent", now)
    add(db, "pending", now)
    moment = now.replace(microsecond=0)
    stream = outbox.stream_sent_between(db, moment, moment + timedelta(seconds=1), batch=2)
    assert list(stream) == outbox.sent_between(db, moment, moment + timedelta(seconds=1))
    assert [r["key"] for r in outbox.stream_sent_between(db, moment, moment + timedelta(seconds=1), batch=2)] \
        == [f"k{n}" for n in range(5)]
    assert list(outbox.stream_sent_between(db, moment - timedelta(seconds=1), moment)) == []


def test_the_sent_stream_reads_the_hours_range_in_index_order_never_sorting_the_bytes(db, now):
    # reading by the state index made SQLite read every email ever sent and sort an hour's bytes
    # in memory before giving the first row (330 MB for an hour at 50,000 members)
    for n in range(20):
        row = lease(db, f"k{n}", now)
        outbox.finish(db, row["id"], "w1", "sent", now)
    plan = " ".join(str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN " + outbox.SENT_BETWEEN_SQL, ["a", "b"]))
    assert "outbox_sent" in plan and "TEMP B-TREE" not in plan, plan


def test_due_count_and_next_attempt(db, now):
    add(db, "now", now)
    add(db, "soon", now, not_before=now + timedelta(minutes=1))
    assert outbox.due_count(db, now) == 1
    assert outbox.next_attempt_after(db, now) == now + timedelta(minutes=1)
    assert outbox.next_attempt_after(db, now + timedelta(minutes=1)) is None


def test_key_lookups(db, now):
    add(db, "a", now)
    add(db, "b", now)
    assert outbox.has_key(db, "a") and not outbox.has_key(db, "c")
    keys = ["a"] + [f"none:{i}" for i in range(1200)] + ["b"]
    assert outbox.keys_present(db, keys) == {"a", "b"}
    assert outbox.key_sent_at(db, "missing") is None
    assert outbox.keys_present(db, []) == set()


def test_people_without_key(db, now):
    ids = {email: people.add_person(db, email, email[0].upper(), "UTC") for email in ("x@x.test", "y@x.test")}
    add(db, f"intro:{ids['x@x.test']}", now)
    assert outbox.people_without_key(db, "intro:") == [ids["y@x.test"]]


def test_list_get_latest_and_find(db, now):
    add(db, "one", now, to="p@x.test", data=b"1")
    add(db, "two", now, to="p@x.test", data=b"2")
    add(db, "three", now, to="q@x.test")
    assert [r["key"] for r in outbox.list_rows(db)] == ["three", "two", "one"]
    assert [r["key"] for r in outbox.list_rows(db, limit=1)] == ["three"]
    assert outbox.list_rows(db, state="sent") == []
    assert outbox.latest_to(db, "P@x.test")["data"] == b"2"
    assert outbox.latest_to(db, "nobody@x.test") is None
    assert outbox.find_by_message_id(db, "one@x")["key"] == "one"
    assert outbox.find_by_message_id(db, "<two@x>")["data"] == b"2"
    assert outbox.find_by_message_id(db, "<none@x>") is None
    with pytest.raises(NotFoundError, match="no outbox message with id 999"):
        outbox.get_row(db, 999)


def test_existing_keys_takes_glob_marks_literally(db, now):
    for key in ("m:[1]:x", "m:1:x", "m:?:y", "m:a:y"):
        add(db, key, now)
    assert outbox.existing_keys(db, "m:[1]") == {"m:[1]:x"}
    assert outbox.existing_keys(db, "m:?") == {"m:?:y"}
