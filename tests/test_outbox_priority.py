"""Answers before bulk: the outbox sends answers to replies first, then time-bound emails, then the rest."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mailer import outbox, worker
from mailer.config import load_settings
from mailer.flows.base import ANSWER, BULK, TIMELY, PlannedEmail
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import compose_reply
from mailer.store import open_db, people
from mailer.store import outbox as store
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.test_challenge_e2e import challenge_file, latest_day_email

START = datetime(2027, 1, 3, 0, 0, tzinfo=timezone.utc)  # the day before day 1 (devops-30.toml)


def plan(key: str, **kw) -> PlannedEmail:
    return PlannedEmail(key=key, to="a@corp.example.com", subject="s", template="system/unrouted",
                        context={"their_subject": "x"}, **kw)


def test_answers_to_replies_come_first():
    assert outbox.priority(plan("challenge:7:status:person:4:at:x", auto_reply=True)) == ANSWER
    assert outbox.priority(plan("system:unrouted:a@corp.example.com:2027-01-04", auto_reply=True)) == ANSWER
    assert outbox.priority(plan("charter:3:v:2:confirm:person:4:date:2027-01-04", priority=ANSWER)) == ANSWER
    assert outbox.priority(plan("digest:reply:<m@x>:lead:1")) == ANSWER  # a sponsor's words passed on
    assert outbox.priority(plan("call:2:confirmed:person:4:signup:9", in_reply_to="<m@x>")) == ANSWER


def test_emails_tied_to_their_hour_come_next():
    for key in ("challenge:7:day:5:person:42", "meetup:3:invite:seq:0:person:42",
                "meetup:3:invite:seq:2:person:42", "meetup:3:cancel:person:42", "meetup:3:reminder:seq:1:person:42"):
        assert outbox.priority(plan(key)) == TIMELY, key


def test_everything_else_is_bulk():
    for key in ("challenge:7:announce:person:42", "challenge:7:summary:person:42", "challenge:7:nudge:person:4:since:x",
                "digest:person:4:manual:2027-01-04T12:00:00Z", "call:2:invite:person:42", "call:2:list",
                "charter:3:news:1:person:4", "meetup:3:highlight:person:42", "k1"):
        assert outbox.priority(plan(key)) == BULK, key


def test_an_explicit_priority_wins_and_an_unknown_one_is_ignored():
    assert outbox.priority(plan("challenge:7:day:5:person:42", priority=BULK)) == BULK
    assert outbox.priority(plan("challenge:7:day:5:person:42", priority=7)) == TIMELY


def test_plans_made_for_a_reply_are_answers_to_the_one_who_wrote_only():
    plans = [plan("charter:3:v:2:confirm:person:4:date:2027-01-04"),
             PlannedEmail(key="call:2:promoted:person:5:signup:3", to="b@corp.example.com", subject="s",
                          template="system/unrouted", context={})]
    answered = outbox.as_answers(plans, " A@Corp.Example.com")
    assert [outbox.priority(p) for p in answered] == [ANSWER, BULK]


def add(db, key, now, **kw):
    return store.enqueue_row(db, key=key, message_id=f"<{key}@x>", to_addr="a@x.test", subject="s",
                             data=b"bytes", created_at=now, **kw)


def test_claim_takes_the_lowest_priority_number_first_then_the_longest_due(db, now):
    bulk = [add(db, f"bulk:{i}", now - timedelta(hours=1), priority=BULK) for i in range(3)]
    timely = add(db, "day", now - timedelta(minutes=5), priority=TIMELY)
    later = add(db, "answer:later", now + timedelta(minutes=1), priority=ANSWER)  # not due yet
    answer = add(db, "answer", now, priority=ANSWER)
    assert [r["id"] for r in store.claim(db, "w", now, 60, 3)] == [answer, timely, bulk[0]]
    assert [r["id"] for r in store.claim(db, "w", now, 60, 10)] == bulk[1:]
    assert [r["id"] for r in store.claim(db, "w", now + timedelta(minutes=1), 60, 10)] == [later]


def test_claim_seeks_each_priority_by_its_index(db, now):
    plan_rows = db.execute(f"EXPLAIN QUERY PLAN {store.DUE_OF_PRIORITY}", [0, "x", 5]).fetchall()
    detail = " ".join(str(r[-1]) for r in plan_rows)
    assert "SEARCH outbox USING INDEX outbox_claim (priority=? AND next_attempt_at<?)" in detail
    assert "TEMP B-TREE" not in detail  # taken in order from the index, not sorted


def queue_day_emails(db, challenge_id: int, count: int, now: datetime) -> None:
    """``count`` day emails as the worker would queue them, inserted in one transaction."""
    with db.atomic():
        for n in range(count):
            key = f"challenge:{challenge_id}:day:1:person:{100_000 + n}"
            store.enqueue_row(db, key=key, message_id=f"<day1.{n}@example.test>", to_addr=f"p{n}@corp.example.com",
                              subject="Day 1 of 30", data=b"Subject: Day 1 of 30\r\n\r\nday one\r\n",
                              created_at=now, priority=outbox.priority(PlannedEmail(
                                  key=key, to="", subject="", template="", context={})))


def test_a_reply_is_answered_within_a_minute_while_10000_day_emails_go_at_30_a_minute(home, tmp_path):
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n'
                                      '[transport]\npace = "custom"\nper_minute = 30\n')
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    people.add_person(db, "oliver@corp.example.com", "Oliver", "Europe/London")
    challenge_id = start_challenge(db, challenge_file(tmp_path, ["oliver@corp.example.com"]), START).challenge_id
    transport = make_transport(settings)
    morning = START + timedelta(days=1, hours=8)  # day 1, 08:00 in London
    worker.tick(db, transport, morning, settings, "w")  # Oliver's day 1 email leaves
    day_one = latest_day_email(settings.mail_dir / "outbox", "oliver@corp.example.com", 1)
    queue_day_emails(db, challenge_id, 10_000, morning)

    arrived = morning + timedelta(minutes=3, seconds=10)
    for step in range(1, 31):  # ten minutes, a tick every 20 seconds
        now = morning + timedelta(seconds=20 * step)
        if now - timedelta(seconds=20) < arrived <= now:
            deliver_to_inbox(settings.mail_dir, compose_reply(day_one, "oliver@corp.example.com", "Oliver",
                                                              "Please pause my emails for a week.", "outlook", arrived))
        worker.tick(db, transport, now, settings, "w")

    rows = db.execute("SELECT key, sent_at FROM outbox WHERE state = 'sent' ORDER BY sent_at, id").fetchall()
    answers = [(key, datetime.fromisoformat(sent)) for key, sent in rows if key.startswith("challenge:1:paused:")]
    assert len(answers) == 1
    assert arrived < answers[0][1] <= arrived + timedelta(minutes=1)  # not behind 10,000 day emails
    times = [datetime.fromisoformat(sent) for _, sent in rows]
    ticks = [morning + timedelta(seconds=20 * step) for step in range(3, 31)]
    assert all(sum(t - timedelta(minutes=1) < u <= t for u in times) == 30 for t in ticks)  # full pace, never over
    queued = [key for key, _ in rows if key.startswith("challenge:1:day:1:") and int(key.rsplit(":", 1)[1]) >= 100_000]
    assert len(queued) == len(rows) - 3 == 299  # all but Oliver's announcement, day 1 and answer
    db.close()
