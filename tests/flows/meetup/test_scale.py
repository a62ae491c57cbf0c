"""Issue 25: a meetup's costs do not grow with the community, and its invite list still follows it.

A calendar answer finds its invitee by primary key (the same statements among 10 invitees as among
1,000); a quiet tick skips a planned meetup; the invite list is resolved again once after a people
import, a deactivation, an activation or a new challenge participant, and the right emails follow.
SQL statements are counted with SQLite's trace callback: counts, never times.
"""
from __future__ import annotations

import base64
import email
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.policy import compat32

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.flows import challenge, meetup
from mailer.flows.challenge.definition import start_challenge
from mailer.store import meetups as store
from mailer.store import people
from tests.flows.challenge.conftest import challenge_toml
from tests.flows.meetup.conftest import UTC, Sim, spec
from tests.flows.meetup.test_rsvp import ALICE, BOB, CAROL, DAN, run_inbox, sample

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
START = datetime(2027, 2, 10, 16, 0, tzinfo=UTC)


@contextmanager
def counted(db):
    """The SQL statements run inside the block (SQLite's trace callback), and in ``steps[0]`` the
    virtual-machine instructions they ran in hundreds (its progress handler): a statement that
    reads every row of a table runs as many more of them as there are rows."""
    seen: list[str] = []
    steps = [0]

    def step() -> int:
        steps[0] += 1
        return 0

    db.conn.set_trace_callback(seen.append)
    db.conn.set_progress_handler(step, 100)
    try:
        yield seen, steps
    finally:
        db.conn.set_trace_callback(None)
        db.conn.set_progress_handler(None, 0)


def crowd(db, count: int, role: str) -> None:
    """``count`` more people with ``role``."""
    people.insert_people(db, [(f"{role}{n}@corp.example.com", f"{role.title()} {n}", "Europe/London", role, None)
                              for n in range(count)])


def answering(name: str, uid: str, *swaps: tuple[bytes, bytes]) -> bytes:
    """A sample calendar answer (as its client wrote it) to the meetup ``uid``, with other bytes
    swapped in the calendar part and the headers too (the part may be base64 or quoted-printable)."""
    msg = email.message_from_bytes(sample(name), policy=compat32)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True).replace(b"meetup-12@example.test", uid.encode())
            for old, new in swaps:
                data = data.replace(old, new)
            del part["Content-Transfer-Encoding"]
            part.set_payload(base64.encodebytes(data).decode("ascii"))
            part["Content-Transfer-Encoding"] = "base64"
    raw = msg.as_bytes()
    for old, new in swaps:
        raw = raw.replace(old, new)
    return raw.replace(b"Message-ID: <", f"Message-ID: <{uid}.".encode(), 1)


def answer(db, meetup_id: int, email: str) -> str:
    return store.get_invitee(db, meetup_id, people.find_person(db, email)["id"])["partstat"]


@pytest.fixture
def two_meetups(db):
    """The samples' four invitees in a meetup of 10 and in one of 1,000 (other UIDs)."""
    for address, name in ((BOB, "Bob Brown"), (ALICE, "Alice Adams"), (CAROL, "Carol Cruz"), (DAN, "Dan Dupont")):
        people.add_person(db, address, name, "Europe/London", ("member",))
    crowd(db, 6, "few")
    crowd(db, 996, "many")
    small = meetup.schedule_meetup(db, spec(START, invite=[BOB, ALICE, CAROL, DAN, "few"], uid="small@x.test"), NOW)
    large = meetup.schedule_meetup(db, spec(START, invite=[BOB, ALICE, CAROL, DAN, "many"], uid="large@x.test",
                                            title="Large"), NOW)
    assert (len(store.invitee_ids(db, small)), len(store.invitee_ids(db, large))) == (10, 1000)
    return small, large


def test_a_calendar_answer_costs_the_same_among_10_and_1000_invitees(db, settings, two_meetups):
    small, large = two_meetups
    counts = []
    for meetup_id, uid in ((small, "small@x.test"), (large, "large@x.test")):
        raw = answering("exchange_accept.eml", uid)
        with counted(db) as (statements, steps):
            row = run_inbox(db, settings, raw)
        assert row["state"] == "done" and answer(db, meetup_id, BOB) == "accepted"
        counts.append((len(statements), steps[0]))
    assert counts[0][0] == counts[1][0] and abs(counts[0][1] - counts[1][1]) <= 10


def test_an_answer_from_an_invitee_among_many_is_recorded_and_a_strangers_kept(db, settings, two_meetups):
    _, large = two_meetups
    row = run_inbox(db, settings, answering("apple_decline.eml", "large@x.test"))
    assert row["state"] == "done" and answer(db, large, CAROL) == "declined"
    stranger = answering("apple_decline.eml", "large@x.test", (b"carol@icloud.com", b"zed@elsewhere.example"),
                         (b"-1111-", b"-3333-"))
    row = run_inbox(db, settings, stranger)
    assert row["state"] == "ignored" and "kept for the organiser" in row["reason"]
    (kept,) = store.answers(db, large, ("unattributed",))
    assert kept["address"] == "zed@elsewhere.example" and kept["person_id"] is None
    assert "zed@elsewhere.example" not in {people.get_person(db, i)["email"] for i in store.invitee_ids(db, large)}


def test_a_quiet_tick_costs_the_same_for_10_and_1000_invitees(db, settings, two_meetups):
    sim = Sim(db, settings)
    assert len(sim.tick(NOW)) == 1010  # every invitation
    assert sim.tick(NOW + timedelta(minutes=1)) == []  # finds them enqueued: marks both meetups
    counts = []
    for meetup_id in two_meetups:
        row = next(m for m in store.list_meetups(db) if m["id"] == meetup_id)
        with counted(db) as (statements, _):
            assert list(meetup.flow.plan_meetup(db, row, NOW + timedelta(minutes=2), settings)) == []
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 2


def test_a_people_import_deactivation_and_activation_reach_the_invite_list(db, settings, home, tmp_path):
    for n in range(3):
        people.add_person(db, f"m{n}@corp.example.com", f"M {n}", "Europe/London", ("member",))
    meetup_id = meetup.schedule_meetup(db, spec(START, invite=["member"]), NOW)
    sim = Sim(db, settings)
    sim.run(NOW, NOW + timedelta(hours=2))
    csv = tmp_path / "more.csv"
    csv.write_text("email,name,timezone,roles\nnew@corp.example.com,New,Europe/Paris,member\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["--home", str(home), "people", "import", str(csv)]).exit_code == 0
    assert [p.to for p in sim.tick(NOW + timedelta(hours=3))] == ["new@corp.example.com"]
    cli = ["--home", str(home), "people"]
    assert CliRunner().invoke(main, [*cli, "deactivate", "m1@corp.example.com"]).exit_code == 0
    reminders = sim.tick(START - timedelta(hours=23))
    assert sorted(p.to for p in reminders) == ["m0@corp.example.com", "m2@corp.example.com", "new@corp.example.com"]
    late = people.add_person(db, "late@corp.example.com", "Late", "UTC", ("member",))
    people.set_active(db, late, False)  # joins deactivated: "member" leaves them out
    assert sim.tick(START - timedelta(hours=22)) == []
    assert late not in store.invitee_ids(db, meetup_id)
    assert CliRunner().invoke(main, [*cli, "activate", "late@corp.example.com"]).exit_code == 0
    assert [(p.to, ":invite:" in p.key) for p in sim.tick(START - timedelta(hours=21))] == [
        ("late@corp.example.com", True)]
    assert late in store.invitee_ids(db, meetup_id)


def test_a_new_challenge_participant_is_invited_to_its_report_back(db, settings, tmp_path):
    for n in range(3):
        people.add_person(db, f"m{n}@corp.example.com", f"M {n}", "Europe/London", ("member",))
    path = tmp_path / "challenge.toml"
    path.write_text(challenge_toml(length=3, extra="[report_back]\ndays_after_end = 1\nhour = 17\n"),
                    encoding="utf-8")
    started = start_challenge(db, path, datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
    (report_back,) = store.list_meetups(db)
    sim, now = Sim(db, settings), datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
    assert len(sim.tick(now)) == 3 and sim.tick(now + timedelta(minutes=1)) == []
    joiner = people.add_person(db, "joiner@corp.example.com", "Joiner", "Europe/London", ())  # not a member
    assert sim.tick(now + timedelta(minutes=2)) == []  # a new person, not in the challenge: not invited
    challenge.enroll(db, started.challenge_id, joiner, now + timedelta(minutes=3))
    assert [p.to for p in sim.tick(now + timedelta(minutes=4))] == ["joiner@corp.example.com"]
    assert joiner in store.invitee_ids(db, report_back["id"])


def test_the_plan_mark_waits_for_the_reminder_window_and_attendance(db, settings):
    for n in range(2):
        people.add_person(db, f"m{n}@corp.example.com", f"M {n}", "Europe/London", ("member",))
    meetup_id = meetup.schedule_meetup(db, spec(START, invite=["member"]), NOW)
    sim = Sim(db, settings)
    sim.run(NOW, NOW + timedelta(hours=1))
    assert sim.tick(START - timedelta(hours=24, minutes=1)) == []
    assert len(sim.tick(START - timedelta(hours=24))) == 2  # the reminders, as the window opens
    after = START + timedelta(hours=2)
    assert sim.tick(after) == [] and sim.tick(after + timedelta(minutes=1)) == []
    store.set_attended(db, meetup_id, people.find_person(db, "m0@corp.example.com")["id"])
    assert [(p.to, ":highlight:" in p.key) for p in sim.tick(after + timedelta(minutes=2))] == [
        ("m0@corp.example.com", True)]
