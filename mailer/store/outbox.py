"""Store verbs for the outbox: one row per logical email, claimed with a lease, never sent twice.

States: pending -> sending -> sent; a 4xx or connection error -> failed (retried at
next_attempt_at); 5xx or too many attempts -> dead (set aside); an error after the data was
handed over -> unknown (reconciled against the Sent folder before any resend).
Times are stored as ISO-8601 UTC text so they compare as strings.
"""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.rows import one_unit


PRIORITIES = (0, 1, 2)
WITH_DATA = "SELECT o.*, d.data FROM outbox o LEFT JOIN outbox_data d ON d.id = o.id"
CLAIMABLE = ("pending", "failed")


class _SameMoment:
    """A datetime as stored text, reusing the text for the very same object.

    A tick writes the same ``now`` object many times (several rows per reply or email): the
    text of the last aware one is kept and reused for that very object (identity, not ==:
    equal wall times in one zone can be two instants around a DST change). A naive one is
    never reused: its text depends on the local zone.
    """

    def __init__(self, timespec: str) -> None:
        self.timespec = timespec
        self.last: tuple[datetime | None, str] = (None, "")  # replaced whole: thread-safe

    def __call__(self, moment: datetime) -> str:
        last, text = self.last
        if moment is last:
            return text
        text = moment.astimezone(timezone.utc).isoformat(timespec=self.timespec)
        if moment.tzinfo is not None:
            self.last = (moment, text)
        return text


_TS, _TS_MS = _SameMoment("seconds"), _SameMoment("milliseconds")


def ts(moment: datetime) -> str:
    """A datetime as stored: UTC, ISO-8601, seconds precision."""
    return _TS(moment)


def ts_ms(moment: datetime) -> str:
    """A datetime with milliseconds, for send times that pacing counts within a minute.

    It sorts correctly against ``ts`` text: within one second "+" sorts before ".".
    """
    return _TS_MS(moment)


def parse_ts(text: str | None) -> datetime | None:
    """The inverse of ``ts``."""
    return datetime.fromisoformat(text) if text else None


def enqueue_row(db: Database, *, key: str, message_id: str, to_addr: str, subject: str,
                data: bytes, created_at: datetime, not_before: datetime | None = None,
                priority: int = 2) -> int | None:
    """Insert one outgoing email; a key already present is a no-op (returns None).

    ``priority``: 0 is sent first, then 1, then 2 (``claim``)."""
    with db.atomic():  # the row and its bytes together, or neither
        cur = db.execute(
            """INSERT INTO outbox (key, message_id, to_addr, subject, next_attempt_at, created_at, priority)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING""",
            [key, message_id, to_addr, subject, ts(not_before or created_at), ts(created_at),
             min(max(priority, PRIORITIES[0]), PRIORITIES[-1])])
        if not cur.rowcount:
            return None
        db.execute("INSERT INTO outbox_data (id, data) VALUES (?, ?)", [cur.lastrowid, data])
    return cur.lastrowid


def enqueue_rows(db: Database, rows: list[dict]) -> dict[str, int]:
    """Insert outgoing emails (each a dict of ``enqueue_row``'s arguments) with one statement per
    table for each 100, rows and bytes together or neither; keys already present are skipped.
    The new rows' ids by key.

    A day's tick stores thousands of emails in batches: one statement for the batch, not two
    statements and a savepoint pair for each email, halved the store's share of composing."""
    stored: dict[str, int] = {}
    with one_unit(db):
        for i in range(0, len(rows), 100):
            chunk = rows[i:i + 100]
            ids = dict(db.conn.execute(
                "INSERT INTO outbox (key, message_id, to_addr, subject, next_attempt_at, created_at, priority) "
                f"VALUES {','.join(['(?,?,?,?,?,?,?)'] * len(chunk))} ON CONFLICT(key) DO NOTHING RETURNING key, id",
                [v for row in chunk for v in _outbox_values(row)]).fetchall())
            data = [(ids[row["key"]], row["data"]) for row in chunk if row["key"] in ids]
            if data:
                db.conn.execute(f"INSERT INTO outbox_data (id, data) VALUES {','.join(['(?,?)'] * len(data))}",
                                [v for pair in data for v in pair])
            stored.update(ids)
    return stored


def _outbox_values(row: dict) -> tuple:
    created = row["created_at"]
    priority = min(max(row.get("priority", 2), PRIORITIES[0]), PRIORITIES[-1])
    return (row["key"], row["message_id"], row["to_addr"], row["subject"], ts(row.get("not_before") or created),
            ts(created), priority)


def add_dead(db: Database, *, key: str, message_id: str, to_addr: str, subject: str,
             created_at: datetime, reason: str) -> None:
    """A row for an email that could not be built: state ``dead``, no bytes, the reason kept."""
    db.execute(
        """INSERT INTO outbox (key, message_id, to_addr, subject, state, next_attempt_at, last_error, created_at)
           VALUES (?, ?, ?, ?, 'dead', ?, ?, ?) ON CONFLICT(key) DO NOTHING""",
        [key, message_id, to_addr, subject, ts(created_at), reason, ts(created_at)])


def existing_keys(db: Database, prefix: str) -> set[str]:
    """Idempotency keys already enqueued that start with ``prefix``."""
    # GLOB keeps the index-friendly prefix match and has no LIKE wildcards to escape but * ? [.
    pattern = prefix.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]") + "*"
    return {row[0] for row in db.execute("SELECT key FROM outbox WHERE key GLOB ?", [pattern])}


def people_without_key(db: Database, prefix: str) -> list[int]:
    """Ids of the people (by email) to whom no email keyed ``prefix`` + their id was ever
    enqueued: one indexed look-up per person inside SQLite, not every key loaded into Python."""
    return [row[0] for row in db.execute(
        "SELECT p.id FROM people p WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = ? || p.id) "
        "ORDER BY p.email", [prefix])]


def key_sent_at(db: Database, key: str) -> datetime | None:
    """When the email with this key was sent, or None if it has not been (yet)."""
    row = db.execute("SELECT sent_at FROM outbox WHERE key = ?", [key]).fetchone()
    return parse_ts(row[0]) if row else None


def keys_present(db: Database, keys: list[str]) -> set[str]:
    """Which of these idempotency keys were ever enqueued (one query per 500 keys)."""
    present: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        present.update(row[0] for row in db.execute(
            f"SELECT key FROM outbox WHERE key IN ({','.join('?' * len(chunk))})", chunk))
    return present


def has_key(db: Database, key: str) -> bool:
    """Whether an email with this idempotency key was ever enqueued."""
    return db.execute("SELECT 1 FROM outbox WHERE key = ?", [key]).fetchone() is not None


def record_sent_many(db: Database, owner: str, sends: list[tuple[int, datetime]]) -> int:
    """The server accepted these rows leased to ``owner`` (row id, when): each is marked sent at its
    moment, all in one statement committed at once (a transaction for more than 400); a row whose
    lease was lost is left alone. How many were marked."""
    if not sends:
        return 0
    with db.atomic() if len(sends) > 400 else contextlib.nullcontext():
        return sum(_mark_sent(db, owner, sends[i:i + 400]) for i in range(0, len(sends), 400))


def _mark_sent(db: Database, owner: str, sends: list[tuple[int, datetime]]) -> int:
    # VALUES in FROM names its columns column1, column2 (SQLite); each row found by its id.
    cur = db.conn.execute(
        f"""UPDATE outbox SET state='sent', sent_at=v.column2, last_error=NULL, lease_owner=NULL,
            lease_expires_at=NULL FROM (VALUES {','.join(['(?,?)'] * len(sends))}) AS v
            WHERE outbox.id = v.column1 AND outbox.lease_owner = ? AND outbox.state = 'sending'""",
        [*(v for row_id, moment in sends for v in (row_id, ts_ms(moment))), owner])
    return cur.rowcount


def settle_sent(db: Database) -> int:
    """Mark every logged send 'sent' (if its lease still holds) and empty the log; how many."""
    with db.atomic():
        cur = db.execute(
            """UPDATE outbox SET state='sent', sent_at=l.sent_at, last_error=NULL, lease_owner=NULL,
               lease_expires_at=NULL FROM outbox_sent_log l
               WHERE outbox.id = l.row_id AND outbox.lease_owner = l.owner AND outbox.state = 'sending'""")
        db.execute("DELETE FROM outbox_sent_log")
    return cur.rowcount


def expire_leases(db: Database, now: datetime) -> int:
    """Rows left 'sending' by a worker that died: we cannot know if the server got them -> unknown
    (sends it had logged are settled first: those are known to be sent)."""
    if not _leases_to_expire(db, now):
        return 0  # the usual case: no write, so the write lock is not taken once a flush
    with db.atomic():
        settle_sent(db)
        cur = db.execute(
            """UPDATE outbox SET state='unknown', lease_owner=NULL, lease_expires_at=NULL,
               last_error='worker stopped while sending' WHERE state='sending' AND lease_expires_at <= ?""",
            [ts(now)])
    return cur.rowcount


def _leases_to_expire(db: Database, now: datetime) -> bool:
    """Whether ``expire_leases`` has anything to do: a logged send to settle, or a lease run out."""
    return db.execute("SELECT EXISTS (SELECT 1 FROM outbox_sent_log) OR EXISTS (SELECT 1 FROM outbox "
                      "WHERE state = 'sending' AND lease_expires_at <= ?)", [ts(now)]).fetchone()[0] == 1


def claim(db: Database, owner: str, now: datetime, lease_seconds: int, limit: int) -> list[dict]:
    """Lease up to ``limit`` due rows to ``owner`` and return them in sending order: the lowest
    priority number first, then the longest due, then the oldest."""
    if limit <= 0:
        return []
    with db.atomic():
        ids = _due_ids(db, now, limit)
        marks = ",".join("?" * len(ids))
        rows = db.execute(
            f"""UPDATE outbox SET state='sending', lease_owner=?, lease_expires_at=?, attempts=attempts+1
                WHERE id IN ({marks}) RETURNING id, key, message_id, to_addr, subject, attempts""",
            [owner, ts(now + timedelta(seconds=lease_seconds)), *ids]).fetchall() if ids else []
        data = _data_of(db, [r[0] for r in rows])
    cols = ("id", "key", "message_id", "to_addr", "subject", "attempts")
    order = {row_id: n for n, row_id in enumerate(ids)}
    return sorted(({**dict(zip(cols, r)), "data": data.get(r[0], b"")} for r in rows), key=lambda r: order[r["id"]])


DUE_OF_PRIORITY = """SELECT id FROM outbox INDEXED BY outbox_claim WHERE state IN ('pending','failed')
                      AND priority = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"""


def _due_ids(db: Database, now: datetime, limit: int) -> list[int]:
    """Up to ``limit`` due rows' ids in sending order: one seek of ``outbox_claim`` per priority,
    so rows queued for later (a day email at 08:00 tomorrow) are never walked over."""
    ids: list[int] = []
    for priority in PRIORITIES:
        ids += [r[0] for r in db.execute(DUE_OF_PRIORITY, [priority, ts(now), limit - len(ids)])]
        if len(ids) >= limit:
            break
    return ids


def _data_of(db: Database, ids: list[int]) -> dict[int, bytes]:
    """The bytes of these rows (one query per 500)."""
    found: dict[int, bytes] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        found.update(db.execute(f"SELECT id, data FROM outbox_data WHERE id IN ({','.join('?' * len(chunk))})",
                                chunk).fetchall())
    return found


def finish(db: Database, row_id: int, owner: str, state: str, now: datetime,
           error: str | None = None, next_attempt: datetime | None = None) -> bool:
    """Move a leased row to its next state; only the lease holder may. False if the lease was lost."""
    sent_at = ts_ms(now) if state == "sent" else None
    # One statement: outside db.atomic() it commits on its own (the connection autocommits),
    # which is one round trip to SQLite per email sent instead of three.
    cur = db.execute(
        """UPDATE outbox SET state=?, sent_at=COALESCE(?, sent_at), last_error=?,
           next_attempt_at=COALESCE(?, next_attempt_at), lease_owner=NULL, lease_expires_at=NULL
           WHERE id=? AND lease_owner=? AND state='sending'""",
        [state, sent_at, error, ts(next_attempt) if next_attempt else None, row_id, owner])
    return cur.rowcount == 1


def replace_data(db: Database, row_id: int, data: bytes) -> None:
    """Keep smaller bytes for a row (its attachments left off): a resend sends these."""
    db.execute("UPDATE outbox_data SET data = ? WHERE id = ?", [data, row_id])


def postpone(db: Database, row_id: int, owner: str, until: datetime, note: str) -> bool:
    """Give a leased row back untried until ``until`` (the server asked us to wait): no attempt counted."""
    with db.atomic():
        cur = db.execute(
            """UPDATE outbox SET state='pending', attempts=max(attempts-1, 0), last_error=?, next_attempt_at=?,
               lease_owner=NULL, lease_expires_at=NULL WHERE id=? AND lease_owner=? AND state='sending'""",
            [note, ts(until), row_id, owner])
    return cur.rowcount == 1


def unknown_rows(db: Database) -> list[dict]:
    """Rows whose fate is uncertain, to reconcile against the Sent folder."""
    return list(db.query("SELECT id, key, message_id, to_addr FROM outbox WHERE state='unknown' ORDER BY id"))


def resolve_unknown(db: Database, row_id: int, state: str, now: datetime, note: str) -> None:
    """Settle an unknown row: 'sent' (found in Sent) or 'pending' (resend the same bytes)."""
    with db.atomic():
        db.execute(
            """UPDATE outbox SET state=?, last_error=?, next_attempt_at=?,
               sent_at=CASE WHEN ?='sent' THEN COALESCE(sent_at, ?) ELSE sent_at END
               WHERE id=? AND state='unknown'""", [state, note, ts(now), state, ts_ms(now), row_id])


def sent_since(db: Database, since: datetime) -> int:
    """How many emails were sent at or after ``since`` (for pacing)."""
    return db.execute("SELECT count(*) FROM outbox WHERE sent_at >= ?", [ts(since)]).fetchone()[0]


def sent_after(db: Database, since: datetime) -> int:
    """How many emails were sent strictly after ``since`` (a pacing window's count)."""
    return db.execute("SELECT count(*) FROM outbox WHERE sent_at > ?", [ts_ms(since)]).fetchone()[0]


def send_times_after(db: Database, since: datetime) -> list[datetime]:
    """When each email sent strictly after ``since`` went, oldest first (for pacing forecasts)."""
    return [parse_ts(row[0]) for row in db.execute(
        "SELECT sent_at FROM outbox WHERE sent_at > ? ORDER BY sent_at", [ts_ms(since)])]


def in_flight(db: Database) -> list[dict]:
    """Rows being sent now (or by a worker that died): who holds each lease and until when."""
    return list(db.query("""SELECT lease_owner AS owner, count(*) AS count, min(lease_expires_at) AS lease_ends
                            FROM outbox WHERE state = 'sending' GROUP BY lease_owner ORDER BY lease_ends"""))


def counts(db: Database) -> dict[str, int]:
    """Number of rows per state."""
    return {s: n for s, n in db.execute("SELECT state, count(*) FROM outbox GROUP BY state")}


def due_count(db: Database, now: datetime) -> int:
    """Rows that could be sent now if pacing allowed."""
    return db.execute("SELECT count(*) FROM outbox WHERE state IN ('pending','failed') "
                      "AND next_attempt_at <= ?", [ts(now)]).fetchone()[0]


def next_attempt_after(db: Database, now: datetime) -> datetime | None:
    """When the next not-yet-due row becomes due, if any."""
    row = db.execute("SELECT min(next_attempt_at) FROM outbox WHERE state IN ('pending','failed') "
                     "AND next_attempt_at > ?", [ts(now)]).fetchone()
    return parse_ts(row[0])


def list_rows(db: Database, state: str | None = None, limit: int = 50) -> list[dict]:
    """Recent rows without their bytes, newest first, optionally of one state."""
    where, args = ("WHERE state = ?", [state]) if state else ("", [])
    return list(db.query(
        f"""SELECT id, key, message_id, to_addr, subject, state, attempts, next_attempt_at, sent_at, last_error
            FROM outbox {where} ORDER BY id DESC LIMIT ?""", [*args, limit]))


def get_row(db: Database, row_id: int) -> dict:
    """One row with its bytes; NotFoundError if absent."""
    rows = list(db.query(f"{WITH_DATA} WHERE o.id = ?", [row_id]))
    if not rows:
        raise NotFoundError(f"no outbox message with id {row_id}")
    return rows[0]


def latest_to(db: Database, address: str) -> dict | None:
    """The most recent email enqueued to ``address`` (for `reply --to`)."""
    rows = list(db.query(f"{WITH_DATA} WHERE o.to_addr = ? ORDER BY o.id DESC LIMIT 1", [address.lower()]))
    return rows[0] if rows else None


def find_by_message_id(db: Database, message_id: str) -> dict | None:
    """The outbox row with this Message-ID (with or without angle brackets)."""
    mid = message_id if message_id.startswith("<") else f"<{message_id}>"
    rows = list(db.query(f"{WITH_DATA} WHERE o.message_id = ?", [mid]))
    return rows[0] if rows else None


def sent_between(db: Database, since: datetime, until: datetime) -> list[dict]:
    """Emails sent in ``[since, until)``: key, recipient, Message-ID and bytes, oldest first."""
    return list(stream_sent_between(db, since, until))


# ``+o.state``: the unary plus keeps SQLite from the state index, which led it to read every email
# ever sent and sort the hour's rows, bytes and all, in a temporary tree (330 MB for an hour at
# 50,000 members); the range of ``outbox_sent`` gives the rows already in order, a few at a time.
SENT_BETWEEN_SQL = ("SELECT o.key, o.to_addr, o.message_id, d.data, o.sent_at FROM outbox o "
                    "LEFT JOIN outbox_data d ON d.id = o.id WHERE o.sent_at >= ? AND o.sent_at < ? "
                    "AND +o.state = 'sent' ORDER BY o.sent_at, o.id")


def stream_sent_between(db: Database, since: datetime, until: datetime, batch: int = 100) -> Iterator[dict]:
    """``sent_between`` as a stream: the same rows in the same order, read ``batch`` at a time,
    so that at most ``batch`` emails' bytes are held at once (an hour of a 50,000-member day is
    about 1 GB). Write nothing on ``db`` before the stream is read to its end."""
    cursor = db.execute(SENT_BETWEEN_SQL, [ts(since), ts(until)])
    names = [column[0] for column in cursor.description]
    while rows := cursor.fetchmany(batch):
        yield from (dict(zip(names, row)) for row in rows)


def take_queued_to(db: Database, address: str) -> list[tuple[str, str]]:
    """Remove the emails to ``address`` that wait to be sent (pending or failed, never tried or
    to be retried); return their (key, subject). Their keys are free again, so a flow plans
    what is still due once the person may be mailed again."""
    with db.atomic():
        rows = db.execute("SELECT id, key, subject FROM outbox WHERE to_addr = ? AND state IN ('pending', 'failed')",
                          [address]).fetchall()
        ids = [r[0] for r in rows]
        db.conn.executemany("DELETE FROM outbox_data WHERE id = ?", [(i,) for i in ids])
        db.conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
    return [(r[1], r[2]) for r in rows]


def erase_person(db: Database, addresses: list[str], mentions: Callable[[bytes], bool]) -> dict[str, int]:
    """Delete every email to these addresses (row and bytes), and the bytes of any other email
    that ``mentions`` the person (a digest quoting them); such an email not yet sent never will
    be (``dead``, with the reason)."""
    marks = ",".join("?" * len(addresses))
    theirs = [r[0] for r in db.execute(f"SELECT id FROM outbox WHERE lower(to_addr) IN ({marks})", addresses)]
    others = [row_id for row_id, data in db.execute("SELECT id, data FROM outbox_data") if mentions(data)]
    others = sorted(set(others) - set(theirs))
    for table, column in (("outbox_data", "id"), ("outbox_sent_log", "row_id"), ("outbox", "id")):
        db.conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in theirs])
    db.conn.executemany("DELETE FROM outbox_data WHERE id = ?", [(i,) for i in others])
    db.conn.executemany("UPDATE outbox SET state = 'dead', last_error = 'not sent: it named a person who was "
                        "erased' WHERE id = ? AND state IN ('pending', 'failed', 'unknown')", [(i,) for i in others])
    return {"outbox": len(theirs), "outbox_data": len(theirs) + len(others)}


def answered_data(db: Database, message_ids: list[str], limit: int = 10) -> list[bytes]:
    """The bytes of the emails we sent among ``message_ids`` (the emails a reply answers and may
    quote: its In-Reply-To, its token's email, its References), in the order given, at most
    ``limit``; ids we never sent are skipped."""
    wanted = list(dict.fromkeys(m if m.startswith("<") else f"<{m}>" for m in message_ids if m))[:100]
    if not wanted:
        return []
    rows = dict(db.execute(f"SELECT o.message_id, d.data FROM outbox o JOIN outbox_data d ON d.id = o.id "
                           f"WHERE o.message_id IN ({','.join('?' * len(wanted))})", wanted).fetchall())
    return [rows[m] for m in wanted if rows.get(m)][:limit]


def revive_dead(db: Database, row_id: int, now: datetime, note: str) -> bool:
    """Put a dead row that still has its bytes back in line (``pending`` at ``now``, attempts
    from zero): the same bytes and Message-ID go out. False when the row is not dead or its
    bytes are gone (never built, or removed by an erasure)."""
    cur = db.execute(
        """UPDATE outbox SET state='pending', attempts=0, next_attempt_at=?, last_error=?
           WHERE id=? AND state='dead' AND EXISTS (SELECT 1 FROM outbox_data d WHERE d.id = outbox.id)""",
        [ts(now), note, row_id])
    return cur.rowcount == 1
