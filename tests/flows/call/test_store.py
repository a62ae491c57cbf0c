"""The call store: places are taken in SQL, so the last place cannot be given twice."""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone

import pytest

from mailer.store import calls as store
from mailer.store import open_db
from mailer.store.people import add_person

NOW = datetime(2027, 1, 10, 9, tzinfo=timezone.utc)


@pytest.fixture
def one_place(db):
    people = [add_person(db, f"p{n}@corp.example.com", f"P {n}", "Europe/London") for n in range(6)]
    call_id = store.create_call(db, {"title": "T", "description": "", "to_spec": "all", "closes": "2027-01-20",
                                     "feeds": "", "sender": "", "source": ""},
                                [{"name": "reviewer", "places": 1}, {"name": "helper", "places": None}], NOW)
    return call_id, people


def test_take_place_confirms_then_waitlists_in_order(db, one_place):
    call_id, people = one_place
    results = [store.take_place(db, call_id, "reviewer", pid, NOW) for pid in people[:3]]
    assert [(r["status"], r["position"]) for r in results] == [("confirmed", 0), ("waitlisted", 1), ("waitlisted", 2)]
    assert store.take_place(db, call_id, "reviewer", people[1], NOW) is None  # twice: nothing changes
    assert store.take_place(db, call_id, "no-such-role", people[4], NOW) is None


def test_the_database_refuses_a_second_confirmation_for_the_last_place(db, one_place):
    call_id, people = one_place
    store.take_place(db, call_id, "reviewer", people[0], NOW)
    with pytest.raises(sqlite3.IntegrityError, match="full"):
        db.execute("INSERT INTO call_signups (call_id, role, person_id, status, created_at, changed_at) "
                   "VALUES (?, 'reviewer', ?, 'confirmed', 'x', 'x')", [call_id, people[1]])
    waiting = store.take_place(db, call_id, "reviewer", people[1], NOW)
    with pytest.raises(sqlite3.IntegrityError, match="full"):
        db.execute("UPDATE call_signups SET status = 'confirmed' WHERE id = ?", [waiting["id"]])


def test_two_workers_racing_for_the_last_place_give_it_once(settings, one_place):
    """Two connections (as two workers would have), released together by a barrier."""
    call_id, people = one_place
    for attempt in range(5):
        contenders = people[2 * attempt % 6: 2 * attempt % 6 + 2]
        barrier = threading.Barrier(2)
        results: list = []

        def race(pid: int) -> None:
            conn = open_db(settings.db_path)
            barrier.wait()
            results.append(store.take_place(conn, call_id, "reviewer", pid, NOW))
            conn.close()

        threads = [threading.Thread(target=race, args=(pid,)) for pid in contenders]
        [t.start() for t in threads]
        [t.join() for t in threads]
        conn = open_db(settings.db_path)
        confirmed = [s for s in store.signups(conn, call_id) if s["status"] == "confirmed"]
        assert len(confirmed) == 1
        conn.execute("DELETE FROM call_signups")
        conn.close()
        assert sorted(r["status"] for r in results) == ["confirmed", "waitlisted"]


def test_withdrawal_promotes_the_first_waiting_and_only_into_a_free_place(db, one_place):
    call_id, people = one_place
    for pid in people[:3]:
        store.take_place(db, call_id, "reviewer", pid, NOW)
    withdrawn, promoted = store.withdraw(db, call_id, people[1], None, NOW)  # a waiting one leaves
    assert [w["person_id"] for w in withdrawn] == [people[1]] and promoted == []
    withdrawn, promoted = store.withdraw(db, call_id, people[0], None, NOW)
    assert [p["person_id"] for p in promoted] == [people[2]]
    assert store.confirmed_people(db, call_id) == [people[2]]
    assert store.withdraw(db, call_id, people[0], None, NOW) == ([], [])
