"""The outcome matrix: every kind of email cop-mailer sends, at each stage of its flow, answered
with every kind of reply, through the real worker (Maildir, classify, routing, flows, outbox).

Each reply must end in exactly one outcome someone can see (DESIGN.md principle 10): a change,
one answer, or a record kept for the lead; never "none", never left unhandled. A reply gets at
most one answer, and machines (out-of-office notices, calendars) are never answered.

One community is built once and walked through its stages; the home is copied at each stage
(a few milliseconds), and each case answers one email in its own copy: the whole matrix runs
in seconds.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.call.definition import load_spec, open_call
from mailer.flows.challenge.definition import start_challenge
from mailer.flows.charter import lifecycle
from mailer.flows.meetup import actions
from mailer.inbound.message import parse_message
from mailer.simulation import calendar_client, writing
from mailer.simulation.community import Member
from mailer.simulation.replies import compose_reply
from mailer.store import challenges, open_db, people
from mailer.store import outbox as outbox_store
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.challenge.conftest import challenge_toml

UTC = timezone.utc
LENA, SAM, AIKO, OLIVER = ("lena@corp.example.com", "sam@corp.example.com", "aiko@corp.example.com",
                           "oliver@corp.example.com")
PRIYA, OMAR, SOFIA = "priya@corp.example.com", "omar@corp.example.com", "sofia@corp.example.com"
CARLA = "carla@corp.example.com"  # a member who does not take part in the challenge
PEOPLE = ((LENA, "Lena Fischer", "Europe/Berlin", ("member", "lead")),
          (SAM, "Sam Carter", "America/New_York", ("member",)),
          (AIKO, "Aiko Tanaka", "Asia/Tokyo", ("member",)),
          (OLIVER, "Oliver Bennett", "Europe/London", ("member",)),
          (PRIYA, "Priya Sharma", "Asia/Kolkata", ("approver",)),
          (OMAR, "Omar Haddad", "Africa/Cairo", ("approver",)),
          (SOFIA, "Sofia Ruiz", "Europe/Madrid", ("sponsor",)),
          (CARLA, "Carla Ruiz", "America/Mexico_City", ("member",)))
NAMES = {address: name for address, name, _, _ in PEOPLE}
BEFORE = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
RUNNING = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)  # day 1 open everywhere; a meetup tomorrow
PAUSED = datetime(2027, 1, 5, 14, 5, tzinfo=UTC)
LATER = datetime(2027, 1, 11, 18, 0, tzinfo=UTC)  # the challenge ended, the call closed, digests out
# What each flow's people write when they mean to act ("command" replies).
COMMAND = {"challenge": "pause", "charter": "Approve", "call": "Count me in", "meetup": "Yes, I'll be there",
           "digest": "unsubscribe", "system": "stop"}
REPLIES = ("entry", "command", "question", "out-of-office", "calendar answer", "empty")
SEEN = ("change", "answer", "kept")


def charter_toml(title: str, extra: str = "") -> str:
    """A charter with two approvers who must both approve; Aiko is its team, Sofia its sponsor."""
    return (f'title = "{title}"\nkind = "practice-development"\ngoal = "A shared playbook"\n'
            f'scope = "Dashboards"\nout_of_scope = "Tracing"\nproposer = "{LENA}"\nteam = ["{AIKO}"]\n'
            f'open_places = 0\nhours_per_week = 2\nduration_weeks = 8\nbudget = 5000\ncurrency = "EUR"\n'
            f'report_every_weeks = 2\nlearning_sponsors = ["{SOFIA}"]\nfunding_sponsors = []\n'
            f'approvers = ["{PRIYA}", "{OMAR}"]\nrule = "all"\ndeadline = 2027-01-30\n{extra}')


class Community:
    """The worker over one Maildir home, and people answering what it sent."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.settings = load_settings(home, env={})
        self.db = open_db(self.settings.db_path)
        self.transport = make_transport(self.settings)

    def close(self) -> None:
        self.transport.close()
        self.db.close()

    def tick(self, now: datetime) -> None:
        worker.tick(self.db, self.transport, now, self.settings, "test")

    def latest(self, address: str, key_part: str) -> bytes:
        rows = [r for r in outbox_store.list_rows(self.db, limit=100_000)
                if r["to_addr"] == address and key_part in r["key"]]
        assert rows, f"no email to {address} with a key holding {key_part!r}"
        return outbox_store.get_row(self.db, rows[0]["id"])["data"]

    def answer(self, address: str, key_part: str, text: str, now: datetime) -> None:
        raw = compose_reply(self.latest(address, key_part), address, NAMES[address], text, "gmail", now)
        deliver_to_inbox(self.settings.mail_dir, raw)
        self.tick(now)

    def write(self, name: str, text: str) -> Path:
        path = self.home / name
        path.write_text(text)
        return path


Snapshots = dict[str, tuple[Path, datetime, dict[str, int]]]


class Walk:
    """One community walked through every stage, its home copied at each (``snapshots``)."""

    def __init__(self, root: Path) -> None:
        self.root, self.home = root, root / "live"
        self.home.mkdir()
        (self.home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n')
        self.c = Community(self.home)
        for address, name, tz, roles in PEOPLE:
            people.add_person(self.c.db, address, name, tz, roles)
        self.ids: dict[str, int] = {}
        self.snapshots: Snapshots = {}

    def snapshot(self, stage: str, now: datetime) -> None:
        """Copy the home as it is (closed first: the database whole, its WAL checkpointed)."""
        self.c.close()
        shutil.copytree(self.home, self.root / stage)
        self.snapshots[stage] = (self.root / stage, now, dict(self.ids))
        self.c = Community(self.home)

    def before_start(self) -> None:
        """Two challenges announced, an approved project, three meetups with their invitations."""
        c, ids = self.c, self.ids
        members = f'["{LENA}", "{SAM}", "{AIKO}", "{OLIVER}"]'
        ids["challenge"] = start_challenge(c.db, c.write("c1.toml", challenge_toml(3, members)), BEFORE).challenge_id
        ids["removed"] = start_challenge(c.db, c.write("c2.toml", challenge_toml(3, f'["{SAM}"]').replace(
            "DevOps 30-day", "Testing 3-day")), BEFORE).challenge_id
        ids["project"] = lifecycle.submit(c.db, c.write("d.toml", charter_toml("Project D")), BEFORE)
        for n, (start, who) in enumerate(((RUNNING + timedelta(days=16), [SAM, AIKO, OLIVER]),
                                          (RUNNING + timedelta(days=17), [SAM, AIKO]),
                                          (RUNNING + timedelta(hours=22), [SAM, AIKO])), start=1):
            ids[f"meetup{n}"] = actions.schedule_meetup(c.db, {
                "title": f"Report-back {n}", "start": start, "timezone": "Europe/London", "duration_minutes": 60,
                "location": "Room 4", "online_url": "", "description": "Highlights", "invite": who,
                "speakers": [], "sponsors": [SOFIA], "source": "test"}, BEFORE)
        c.tick(BEFORE)
        for approver in (PRIYA, OMAR):  # project D is approved: its team gets check-ins
            c.answer(approver, f"charter:{ids['project']}:v:1:request:", "Approve", BEFORE + timedelta(minutes=5))
        self.snapshot("before start", BEFORE + timedelta(hours=1))

    def running(self) -> None:
        """Day 1; charters pending, decided and revised; a call open; a meetup moved, one cancelled."""
        c, ids, opened = self.c, self.ids, RUNNING - timedelta(hours=4)
        for name in ("decided", "superseded", "pending"):
            ids[name] = lifecycle.submit(c.db, c.write(f"{name}.toml", charter_toml(f"Charter {name}")), opened)
        ids["call"] = open_call(c.db, load_spec(c.write("call.toml", (
            f'title = "Playbook writers"\ndescription = "Help write it."\nto = "all"\ncloses = 2027-01-06\n'
            f'sender = "{LENA}"\n[[roles]]\nname = "writer"\nplaces = 2\n'))), opened)
        c.tick(opened)
        c.answer(OMAR, f"charter:{ids['decided']}:v:1:request:", "Reject: no budget", opened + timedelta(minutes=5))
        c.answer(AIKO, f"call:{ids['call']}:invite:", "Count me in", opened + timedelta(minutes=6))
        c.answer(OLIVER, f"call:{ids['call']}:invite:", "What would I write about?", opened + timedelta(minutes=7))
        c.answer(AIKO, f"meetup:{ids['meetup1']}:invite:", "Is there parking nearby?", opened + timedelta(minutes=8))
        lifecycle.revise(c.db, ids["superseded"], c.write("revised.toml", charter_toml(
            "Charter superseded").replace("Dashboards", "Dashboards and alerts")), opened + timedelta(minutes=10))
        actions.move_meetup(c.db, ids["meetup1"], RUNNING + timedelta(days=16, hours=1), None,
                            opened + timedelta(minutes=15))
        actions.cancel_meetup(c.db, ids["meetup2"], "Room flooded", opened + timedelta(minutes=20))
        c.tick(RUNNING)
        self.snapshot("running", RUNNING + timedelta(minutes=1))

    def paused(self) -> None:
        """Day 2 sent, then the challenge paused; Sam came to tomorrow's meetup."""
        self.c.tick(PAUSED - timedelta(minutes=5))
        challenges.set_challenge_state(self.c.db, self.ids["challenge"], "paused")
        actions.record_attendance(self.c.db, self.ids["meetup3"], [SAM], PAUSED)
        self.snapshot("paused", PAUSED)

    def ended(self) -> None:
        """The challenge over (summaries), the call closed (its list, a late sign-up), one challenge
        removed, the digests out."""
        c, ids = self.c, self.ids
        challenges.set_challenge_state(c.db, ids["challenge"], "active")
        for day in range(6, 9):
            c.tick(datetime(2027, 1, day, 14, 0, tzinfo=UTC))
        c.answer(SAM, f"call:{ids['call']}:invite:", "Count me in", datetime(2027, 1, 8, 15, 0, tzinfo=UTC))
        challenges.set_challenge_state(c.db, ids["removed"], "removed")
        c.tick(LATER)
        self.answers_later(LATER + timedelta(minutes=5))
        self.snapshot("ended", LATER + timedelta(minutes=30))
        self.c.close()


    def answers_later(self, now: datetime) -> None:
        """The short answers people get: "couldn't read that", a pause confirmed, how to join, a
        sponsor's note passed on, a reply we could not place."""
        c, challenge = self.c, self.ids["challenge"]
        c.answer(LENA, f"challenge:{challenge}:day:3:", "", now)
        c.answer(OLIVER, f"challenge:{challenge}:day:3:", "pause", now)
        c.answer(CARLA, f"challenge:{challenge}:announce:", "Sounds fun!", now)
        c.answer(SOFIA, "digest:person:", "Could we see the numbers by team?", now)
        deliver_to_inbox(c.settings.mail_dir, (
            f"From: Oliver Bennett <{OLIVER}>\r\nTo: {c.settings.mailer_address}\r\nSubject: A question\r\n"
            f"Message-ID: <fresh-1@corp.example.com>\r\nDate: Mon, 11 Jan 2027 18:10:00 +0000\r\n\r\n"
            f"Who runs the playbook project?\r\n").encode())
        c.tick(now + timedelta(minutes=5))


def _build(root: Path) -> Snapshots:
    """Every stage's home: stage -> (home, now, record ids)."""
    walk = Walk(root)
    for step in (walk.before_start, walk.running, walk.paused, walk.ended):
        step()
    return walk.snapshots


@pytest.fixture(scope="module")
def stages(tmp_path_factory) -> Snapshots:
    return _build(tmp_path_factory.mktemp("matrix"))


@dataclass(frozen=True)
class Sent:
    """One kind of email at one stage of its flow: who got it, and how to find it by its key."""

    label: str
    stage: str  # the home it is answered in (a snapshot)
    to: str
    flow: str
    key: Callable[[dict[str, int]], str]
    phase: str = ""  # the stage of its own flow, when it is not the snapshot's name


SENT = (
    Sent("challenge announcement", "before start", SAM, "challenge", lambda i: f"challenge:{i['challenge']}:announce:"),
    Sent("challenge announcement", "running", OLIVER, "challenge", lambda i: f"challenge:{i['challenge']}:announce:"),
    Sent("challenge day", "running", SAM, "challenge", lambda i: f"challenge:{i['challenge']}:day:1:"),
    Sent("challenge day", "paused", SAM, "challenge", lambda i: f"challenge:{i['challenge']}:day:2:"),
    Sent("challenge day", "ended", SAM, "challenge", lambda i: f"challenge:{i['challenge']}:day:3:", "ended"),
    Sent("challenge summary", "ended", SAM, "challenge", lambda i: f"challenge:{i['challenge']}:summary:"),
    Sent("challenge day", "ended", SAM, "challenge", lambda i: f"challenge:{i['removed']}:day:",
         "cancelled"),
    Sent("charter request", "running", PRIYA, "charter", lambda i: f"charter:{i['pending']}:v:1:request:"),
    Sent("charter request", "running", PRIYA, "charter", lambda i: f"charter:{i['superseded']}:v:1:request:",
         "superseded"),
    Sent("charter request", "running", PRIYA, "charter", lambda i: f"charter:{i['decided']}:v:1:request:",
         "closed"),
    Sent("charter outcome", "running", LENA, "charter", lambda i: f"charter:{i['decided']}:v:1:outcome:",
         "closed"),
    Sent("charter no need to answer", "running", PRIYA, "charter",
         lambda i: f"charter:{i['decided']}:v:1:notneeded:", "closed"),
    Sent("project check-in", "ended", AIKO, "charter", lambda i: f"charter:{i['project']}:checkin:"),
    Sent("call invitation", "running", SAM, "call", lambda i: f"call:{i['call']}:invite:"),
    Sent("call invitation", "ended", OLIVER, "call", lambda i: f"call:{i['call']}:invite:", "closed"),
    Sent("call closed", "ended", SAM, "call", lambda i: f"call:{i['call']}:closed:", "closed"),
    Sent("call list", "ended", LENA, "call", lambda i: f"call:{i['call']}:list", "closed"),
    Sent("meetup invitation", "running", SAM, "meetup", lambda i: f"meetup:{i['meetup1']}:invite:seq:1:"),
    Sent("meetup invitation", "running", OLIVER, "meetup", lambda i: f"meetup:{i['meetup1']}:invite:seq:0:",
         "superseded"),
    Sent("meetup invitation", "running", SAM, "meetup", lambda i: f"meetup:{i['meetup2']}:invite:", "cancelled"),
    Sent("meetup cancellation", "running", SAM, "meetup", lambda i: f"meetup:{i['meetup2']}:cancel:",
         "cancelled"),
    Sent("meetup reminder", "running", SAM, "meetup", lambda i: f"meetup:{i['meetup3']}:reminder:"),
    Sent("meetup highlight", "ended", SAM, "meetup", lambda i: f"meetup:{i['meetup3']}:highlight:"),
    Sent("challenge couldn't read", "ended", LENA, "challenge", lambda i: f"challenge:{i['challenge']}:couldnt:"),
    Sent("challenge pause confirmed", "ended", OLIVER, "challenge", lambda i: f"challenge:{i['challenge']}:paused:"),
    Sent("challenge how to join", "ended", CARLA, "challenge", lambda i: f"challenge:{i['challenge']}:joinhelp:"),
    Sent("charter receipt", "running", OMAR, "charter", lambda i: f"charter:{i['decided']}:v:1:receipt:", "closed"),
    Sent("call confirmed", "running", AIKO, "call", lambda i: f"call:{i['call']}:confirmed:"),
    Sent("call unclear", "running", OLIVER, "call", lambda i: f"call:{i['call']}:unclear:"),
    Sent("meetup question", "running", AIKO, "meetup", lambda i: f"meetup:{i['meetup1']}:question:"),
    Sent("digest note passed on", "ended", SOFIA, "digest", lambda i: "digest:reply:"),
    Sent("could not place your reply", "ended", OLIVER, "system", lambda i: "system:unrouted:"),
    Sent("sponsor digest", "ended", SOFIA, "digest", lambda i: "digest:person:"),
    Sent("lead digest", "ended", LENA, "digest", lambda i: "digest:person:"),
)


def _case_id(sent: Sent) -> str:
    return f"{sent.label} ({sent.phase or sent.stage}) to {sent.to.split('@')[0]}"


def reply_of(kind: str, original: bytes, sent: Sent, settings, now: datetime) -> bytes:
    """What ``sent.to`` sends back: a human reply in a mail client, an auto-reply or a calendar's."""
    name = NAMES[sent.to]
    if kind == "out-of-office":
        away = Member(sent.to, name, "UTC", "outlook", "en", 1.0, None, None, None, False)
        return writing.out_of_office(original, away, now)
    if kind == "calendar answer":
        invitation = calendar_client.read_invitation(original) or calendar_client.Invitation(
            "not-ours-1@elsewhere.example", 0, "Something else", now + timedelta(days=3),
            now + timedelta(days=3, hours=1), settings.mailer_address, "")
        return calendar_client.reply(invitation, "outlook", sent.to, name, "ACCEPTED", "", now)
    text = {"entry": "Mapped our pipeline: seven stages, two manual gates.", "command": COMMAND[sent.flow],
            "question": "Who else is taking part? And is there a recording?", "empty": ""}[kind]
    return compose_reply(original, sent.to, name, text, {"entry": "outlook", "question": "apple"}.get(kind, "gmail"),
                         now)


@pytest.mark.parametrize("sent", SENT, ids=[_case_id(s) for s in SENT])
def test_every_reply_to_every_email_at_every_stage_ends_in_one_visible_outcome(stages, tmp_path, sent):
    source, now, ids = stages[sent.stage]
    home = tmp_path / "home"
    shutil.copytree(source, home)
    c = Community(home)
    try:
        original = c.latest(sent.to, sent.key(ids))
        before = {r["id"] for r in outbox_store.list_rows(c.db, limit=100_000)}
        written = {}
        for n, kind in enumerate(REPLIES):
            raw = reply_of(kind, original, sent, c.settings, now + timedelta(minutes=n))
            written[kind] = parse_message(raw).message_id
            deliver_to_inbox(c.settings.mail_dir, raw)
        c.tick(now + timedelta(minutes=10))
        ended = {kind: dict(next(c.db.query("SELECT state, outcome, reason FROM inbox WHERE dedupe_key = ?",
                                             ["mid:" + mid]), {})) for kind, mid in written.items()}
        answers = _answers(c, before, sent.to)
    finally:
        c.close()
    wrong = {kind: row for kind, row in ended.items() if row.get("outcome") not in SEEN}
    assert not wrong, f"replies without a visible outcome: {wrong}"
    for kind, mid in written.items():
        assert answers.count(mid) <= 1, f"{kind}: {answers.count(mid)} answers to one reply"
    for kind in ("out-of-office", "calendar answer"):  # machines never talk to machines
        assert written[kind] not in answers, f"the {kind} was answered"
    assert ended["out-of-office"]["outcome"] == "kept"


def _answers(c: Community, before: set[int], to: str) -> list[str]:
    """The In-Reply-To of each email queued to ``to`` since ``before`` (the replies they answer)."""
    found = []
    for row in outbox_store.list_rows(c.db, limit=100_000):
        if row["id"] not in before and row["to_addr"] == to:
            found.append(parse_message(outbox_store.get_row(c.db, row["id"])["data"]).in_reply_to[:1] or [""])
    return [ids[0] for ids in found]
