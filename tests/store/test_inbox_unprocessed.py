"""Issue 25: asking which messages are still unprocessed (every tick) reads an index of the new
ones, not the whole inbox with its raw bytes."""
from __future__ import annotations

from mailer.store import inbox


def test_unprocessed_messages_are_found_through_an_index(db):
    sql = "SELECT id FROM inbox WHERE state = 'new' ORDER BY id"
    assert inbox.unprocessed(db) == []
    plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "USING INDEX inbox_unprocessed" in plan and "SCAN inbox USING" in plan
