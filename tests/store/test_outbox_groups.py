"""The outbox's batch verbs: a batch of composed emails stored in a few statements, and sends
recorded a group at a time (mailer/outbox_sent.py), each on both sides of its rule."""
from __future__ import annotations

from datetime import timedelta

from mailer.store import outbox, people, tokens


def row(key, now, **kw):
    return {"key": key, "message_id": f"<{key}@x>", "to_addr": "a@x.test", "subject": f"s {key}",
            "data": f"bytes of {key}".encode(), "created_at": now, **kw}


def test_a_batch_is_stored_with_its_bytes_and_a_taken_key_skipped(db, now):
    outbox.enqueue_row(db, key="taken", message_id="<old@x>", to_addr="a@x.test", subject="s", data=b"old",
                       created_at=now)
    later = now + timedelta(hours=2)
    ids = outbox.enqueue_rows(db, [row(f"k{n}", now, priority=n % 3) for n in range(250)]
                              + [row("taken", now), row("late", now, not_before=later, priority=9)])
    assert set(ids) == {f"k{n}" for n in range(250)} | {"late"}
    assert outbox.get_row(db, ids["k7"])["data"] == b"bytes of k7"
    assert outbox.find_by_message_id(db, "<old@x>")["data"] == b"old"  # the key's first email stays
    assert outbox.due_count(db, now) == 251 and outbox.next_attempt_after(db, now) == later
    claimed = outbox.claim(db, "w", later, 60, 300)
    assert [r["key"] for r in claimed][:2] == ["k0", "k3"]  # priority 0 first
    assert claimed[-1]["key"] == "late"  # priority 9 is kept within 0..2: the last


def test_a_batch_inside_a_transaction_is_rolled_back_with_it(db, now):
    try:
        with db.atomic():
            outbox.enqueue_rows(db, [row("a", now), row("b", now)])
            raise RuntimeError("the caller fails")
    except RuntimeError:
        pass
    assert outbox.counts(db) == {} and db.execute("SELECT count(*) FROM outbox_data").fetchone()[0] == 0


def test_tokens_are_added_in_a_batch(db, now):
    person = people.add_person(db, "ann@example.test", "Ann", "UTC")
    pid = person if isinstance(person, int) else person["id"]
    tokens.add_tokens(db, [(f"tok{n}", pid, "reply", f"ref{n}", f"<m{n}@x>", now, now + timedelta(days=3))
                           for n in range(150)])
    found = tokens.get_token(db, "tok149")
    assert (found["ref"], found["message_id"], found["expires_at"]) == ("ref149", "<m149@x>", now + timedelta(days=3))


def leased(db, now, count, owner="w1"):
    ids = outbox.enqueue_rows(db, [row(f"{owner}:{n}", now) for n in range(count)])
    assert len(outbox.claim(db, owner, now, 60, count)) == count
    return [ids[f"{owner}:{n}"] for n in range(count)]


def test_a_group_is_marked_sent_each_at_its_moment_for_the_lease_holder_only(db, now):
    mine, theirs = leased(db, now, 3), leased(db, now, 1, owner="w2")
    moments = [now + timedelta(milliseconds=250 * n) for n in range(3)]
    assert outbox.record_sent_many(db, "w1", [*zip(mine, moments), (theirs[0], now)]) == 3
    assert [outbox.key_sent_at(db, f"w1:{n}") for n in range(3)] == moments  # milliseconds kept
    assert outbox.sent_after(db, now) == 2  # pacing counts within a second
    assert outbox.counts(db) == {"sent": 3, "sending": 1}
    assert outbox.record_sent_many(db, "w1", [(mine[0], now)]) == 0  # already sent: left alone


def test_more_than_one_statement_of_sends_is_one_transaction(db, now):
    ids = leased(db, now, 450)
    assert outbox.record_sent_many(db, "w1", [(i, now) for i in ids]) == 450
    assert outbox.counts(db) == {"sent": 450}


def test_expiring_leases_writes_nothing_when_none_ran_out(db, now):
    leased(db, now, 2)
    changes = db.conn.total_changes
    assert outbox.expire_leases(db, now + timedelta(seconds=59)) == 0
    assert db.conn.total_changes == changes
    assert outbox.expire_leases(db, now + timedelta(seconds=60)) == 2


def test_a_group_is_committed_when_full_or_when_its_first_send_is_two_seconds_old(db, now):
    from mailer.outbox_sent import GROUP, MAX_WAIT, SentGroup

    ids = leased(db, now, GROUP + 2)
    group = SentGroup(db, "w1")
    for row_id in ids[:GROUP - 1]:
        group.add(row_id, now)
    assert outbox.counts(db) == {"sending": GROUP + 2}  # nothing written yet
    group.add(ids[GROUP - 1], now)
    assert outbox.counts(db) == {"sent": GROUP, "sending": 2}
    group.add(ids[GROUP], now)
    group.add(ids[GROUP + 1], now + MAX_WAIT - timedelta(milliseconds=1))
    assert outbox.counts(db)["sent"] == GROUP
    group.sends.pop()
    group.add(ids[GROUP + 1], now + MAX_WAIT)
    assert outbox.counts(db) == {"sent": GROUP + 2}
