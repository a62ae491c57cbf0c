"""Reading rows for the verbs on hot paths, without sqlite-utils' guard around each query.

``Database.query`` runs every statement inside ``SAVEPOINT``/``RELEASE`` so that a write which
returns no rows can be undone before it complains: three statements for one. A plain SELECT
needs no such guard, and on the inbox's path (several lookups per message, 10,000 messages
in a tick) the guard was most of the SQL time.
"""
from __future__ import annotations

import contextlib
import re
from typing import Sequence

from sqlite_utils import Database


def select(db: Database, sql: str, params: Sequence = ()) -> list[dict]:
    """The rows of a read-only SELECT, as dicts keyed by column name."""
    cursor = db.conn.execute(sql, params)
    keys = [column[0] for column in cursor.description]
    return [dict(zip(keys, row)) for row in cursor]


def one_unit(db: Database) -> contextlib.AbstractContextManager:
    """A verb's writes as one unit: its own transaction, or, inside a caller's, no savepoint of
    its own (sqlite-utils' nested ``atomic`` costs a SAVEPOINT and a RELEASE, prepared anew each
    time). Inside, a failed statement is undone by SQLite itself and the caller's rollback takes
    back all the verb wrote, so it suits a single statement or a verb whose caller rolls back."""
    return contextlib.nullcontext() if db.conn.in_transaction else db.atomic()


def scrub(db: Database, table: str, columns: tuple[str, ...], needles: list[str], replacement: str) -> int:
    """Replace each of ``needles`` (in any letter case) by ``replacement`` in these text columns
    of ``table`` (an erased person's address in a stored spec); return how many values changed."""
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    changed = 0
    for column in columns:  # LIKE finds candidates (ASCII case-insensitive); the pattern decides
        where = " OR ".join(f"{column} LIKE ?" for _ in needles)
        rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {where}", [f"%{n}%" for n in needles])
        for rowid, value in rows.fetchall():
            if isinstance(value, str) and pattern.search(value):
                db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [pattern.sub(replacement, value), rowid])
                changed += 1
    return changed
