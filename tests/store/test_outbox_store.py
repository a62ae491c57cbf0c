from datetime import timedelta

from mailer.store import outbox


def add(db, key, now, **kw):
    return outbox.enqueue_row(db, key=key, message_id=f"<{key}@x>", to_addr="a@x.test", subject="s",
                              data=b"bytes", created_at=now, **kw)


def test_same_key_twice_is_a_no_op(db, now):
    assert add(db, "k:1", now) is not None
    assert add(db, "k:1", now) is None
    assert outbox.counts(db) == {"pending": 1}


def test_existing_keys_match_a_prefix_literally(db, now):
    for key in ("challenge:1:day:1:person:1", "challenge:1:day:1:person:2", "challenge:10:day:1:person:1",
                "challenge:1:day:*:x"):
        add(db, key, now)
    assert outbox.existing_keys(db, "challenge:1:day:1:") == {"challenge:1:day:1:person:1",
                                                              "challenge:1:day:1:person:2"}
    assert outbox.existing_keys(db, "challenge:1:day:*") == {"challenge:1:day:*:x"}


def test_claim_leases_rows_once(db, now):
    for i in range(5):
        add(db, f"k:{i}", now)
    first = outbox.claim(db, "w1", now, 60, 3)
    second = outbox.claim(db, "w2", now, 60, 10)
    assert [r["key"] for r in first] == ["k:0", "k:1", "k:2"]
    assert [r["key"] for r in second] == ["k:3", "k:4"]
    assert outbox.claim(db, "w3", now, 60, 10) == []


def test_only_the_lease_holder_finishes(db, now):
    add(db, "k", now)
    row = outbox.claim(db, "w1", now, 60, 1)[0]
    assert not outbox.finish(db, row["id"], "intruder", "sent", now)
    assert outbox.finish(db, row["id"], "w1", "sent", now)
    assert outbox.key_sent_at(db, "k") == now.replace(microsecond=0)


def test_not_before_delays_a_row(db, now):
    add(db, "later", now, not_before=now + timedelta(hours=1))
    assert outbox.claim(db, "w", now, 60, 10) == []
    assert outbox.next_attempt_after(db, now) == now + timedelta(hours=1)
    assert len(outbox.claim(db, "w", now + timedelta(hours=1), 60, 10)) == 1


def test_a_dead_workers_lease_becomes_unknown(db, now):
    add(db, "k", now)
    outbox.claim(db, "w1", now, 60, 1)
    assert outbox.expire_leases(db, now + timedelta(seconds=30)) == 0
    assert outbox.expire_leases(db, now + timedelta(seconds=61)) == 1
    assert [r["key"] for r in outbox.unknown_rows(db)] == ["k"]


def test_sent_since_counts_for_pacing(db, now):
    for i in range(3):
        add(db, f"k:{i}", now)
    for row in outbox.claim(db, "w", now, 60, 3):
        outbox.finish(db, row["id"], "w", "sent", now - timedelta(minutes=row["id"]))
    assert outbox.sent_since(db, now - timedelta(seconds=90)) == 1
    assert outbox.sent_since(db, now - timedelta(days=1)) == 3


def test_a_home_from_before_the_bytes_moved_keeps_every_email(tmp_path, now):
    """outbox-003 moves the bytes to outbox_data: a database made before it loses none of them."""
    import sqlite3

    from mailer.store import _all_migrations, open_db

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, fn in _all_migrations():
        if name != "outbox-003-bytes-apart":
            fn(_Raw(old))
            old.execute("INSERT INTO migrations VALUES (?, datetime('now'))", [name])
    old.execute("INSERT INTO outbox (key, message_id, to_addr, subject, data, next_attempt_at, created_at) "
                "VALUES ('k:1', '<k1@x>', 'a@x.test', 's', x'6279746573', '2027-01-01', '2027-01-01')")
    old.commit()
    old.close()
    db = open_db(path)
    assert outbox.get_row(db, 1)["data"] == b"bytes"
    assert [r["data"] for r in outbox.claim(db, "w1", now.replace(year=2027), 60, 5)] == [b"bytes"]
    assert "data" not in {c.name for c in db["outbox"].columns}


class _Raw:
    """Enough of sqlite-utils' Database for a migration function on a plain connection."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql, params=()):
        return self.conn.execute(sql, params)
