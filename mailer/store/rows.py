"""Reading rows for the verbs on hot paths, without sqlite-utils' guard around each query.

``Database.query`` runs every statement inside ``SAVEPOINT``/``RELEASE`` so that a write which
returns no rows can be undone before it complains: three statements for one. A plain SELECT
needs no such guard, and on the inbox's path (several lookups per message, 10,000 messages
in a tick) the guard was most of the SQL time.
"""
from __future__ import annotations

from typing import Sequence

from sqlite_utils import Database


def select(db: Database, sql: str, params: Sequence = ()) -> list[dict]:
    """The rows of a read-only SELECT, as dicts keyed by column name."""
    cursor = db.conn.execute(sql, params)
    keys = [column[0] for column in cursor.description]
    return [dict(zip(keys, row)) for row in cursor]
