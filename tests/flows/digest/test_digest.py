"""Sponsor digests through the real worker: real SQLite, real Maildir, replies through the inbox.

Two challenges with different sponsors, a community lead, journal entries written as replies
(one marked #share, one private with a phrase planted to be searched for in every email sent),
and the clock walking three weeks with four days of downtime over a digest's send time.
"""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import worker
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import compose_reply
from mailer.store import challenges, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.challenge.conftest import BEFORE, challenge_toml

UTC = timezone.utc
PRIVATE = "PRIVATE-zq81-kettle"
SHARED = "SHARED-ok77 our deploy time halved"
TEAM_A = (("aiko@corp.example.com", "Aiko Tanaka", "Asia/Tokyo"),
          ("oliver@corp.example.com", "Oliver Bennett", "Europe/London"),
          ("sam@corp.example.com", "Sam Carter", "America/New_York"))
TEAM_B = (("priya@corp.example.com", "Priya Sharma", "Asia/Kolkata"),)
OTHERS = (("dana@corp.example.com", "Dana Whitfield", "America/Chicago", ("sponsor",)),
          ("erik@corp.example.com", "Erik Holm", "Europe/Stockholm", ("sponsor",)),
          ("lia@corp.example.com", "Lia Moreau", "Europe/Paris", ("member", "lead")))


class World:
    """The worker on an injected clock over one home, and what it sent."""

    def __init__(self, db, settings) -> None:
        self.db, self.settings = db, settings
        self.transport = make_transport(settings)
        self.outbox = settings.mail_dir / "outbox" / "new"

    def run(self, start: datetime, end: datetime, step: timedelta = timedelta(hours=3)) -> None:
        moment = start
        while moment <= end:
            self.tick(moment)
            moment += step

    def tick(self, now: datetime) -> worker.TickResult:
        return worker.tick(self.db, self.transport, now, self.settings, "test")

    def sent(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(self.outbox.iterdir())]

    def to(self, address: str, subject_part: str) -> list[email.message.EmailMessage]:
        return [m for m in self.sent() if m["To"].addresses[0].addr_spec == address and subject_part in m["Subject"]]

    def digests(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.to(address, "digest, ") if not m["Subject"].lower().startswith("re")]

    def reply(self, address: str, subject_part: str, text: str, client: str, now: datetime) -> None:
        original = self.to(address, subject_part)[-1]
        person = people.find_person(self.db, address)
        raw = compose_reply(original.as_bytes(), address, person["name"], text, client, now)
        deliver_to_inbox(self.settings.mail_dir, raw)


def body(msg) -> str:
    return "\n".join(part.get_content() for part in msg.walk() if part.get_content_maintype() == "text")


@pytest.fixture
def world(db, settings, tmp_path: Path) -> World:
    for address, name, tz in TEAM_A + TEAM_B:
        people.add_person(db, address, name, tz, ("member",))
    for address, name, tz, roles in OTHERS:
        people.add_person(db, address, name, tz, roles)
    for name, team, sponsor in (("a", TEAM_A, "dana@corp.example.com"), ("b", TEAM_B, "erik@corp.example.com")):
        listed = "[" + ", ".join(f'"{a}"' for a, _, _ in team) + "]"
        text = challenge_toml(participants=listed).replace('sponsors = ["sponsor@corp.example.com"]',
                                                           f'sponsors = ["{sponsor}"]')
        if name == "b":
            text = text.replace('title = "DevOps 30-day challenge"', 'title = "Testing 30-day challenge"')
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        start_challenge(db, path, BEFORE)
    return World(db, settings)


def journal_two_days(world: World) -> None:
    """Week 1: Aiko shares, Sam writes privately, both on days 2 and 3."""
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 6, 0, tzinfo=UTC))
    now = datetime(2027, 1, 6, 1, tzinfo=UTC)
    world.reply("aiko@corp.example.com", "Day 2 of 30", f"{SHARED} #share\n\nBest,\nAiko", "gmail", now)
    world.reply("sam@corp.example.com", "Day 2 of 30", f"Day two: {PRIVATE}.\n\nSent from my iPhone", "apple", now)
    world.reply("priya@corp.example.com", "Day 2 of 30", "Tried the exercise.", "outlook", now)
    world.tick(now)


def test_each_sponsor_gets_one_scoped_digest_per_period_and_late_after_downtime(world):
    journal_two_days(world)
    world.run(datetime(2027, 1, 6, 3, tzinfo=UTC), datetime(2027, 1, 16, 0, tzinfo=UTC))
    # down from 16 Jan to 26 Jan: the 18 Jan digest is missed, then sent once, late, covering both weeks
    world.run(datetime(2027, 1, 26, 12, tzinfo=UTC), datetime(2027, 1, 27, 12, tzinfo=UTC))
    dana = world.digests("dana@corp.example.com")
    assert [m["Subject"] for m in dana] == ["Community of Practice digest, 4 Jan – 11 Jan 2027",
                                            "Community of Practice digest, 11 Jan – 25 Jan 2027"]
    first = body(dana[0])
    assert "DevOps 30-day challenge" in first and "Testing 30-day challenge" not in first
    assert SHARED in first and PRIVATE not in first
    erik = body(world.to("erik@corp.example.com", "digest")[0])
    assert "Testing 30-day challenge" in erik and "DevOps" not in erik and SHARED not in erik
    lead = body(world.to("lia@corp.example.com", "digest")[0])
    assert "DevOps 30-day challenge" in lead and "Testing 30-day challenge" in lead


def test_numbers_match_the_store(world):
    journal_two_days(world)
    world.run(datetime(2027, 1, 6, 3, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    text = body(world.to("dana@corp.example.com", "digest")[0])
    cid = challenges.list_challenges(world.db)[0]["id"]
    days = challenges.journaled_days(world.db, cid)
    total = len(challenges.list_participants(world.db, cid))
    entries = sum(len(v) for v in days.values())
    assert f"{total} participants: {total} active, 0 paused, 0 stopped" in text
    assert f"{entries} journal entries from {len(days)} participants" in text
    assert f"{sum(1 for v in days.values() if len(v) >= 5)} of {total} participants journaled at least 5 days" in text


def test_private_entries_never_leave_their_author(world):
    journal_two_days(world)
    world.run(datetime(2027, 1, 6, 3, tzinfo=UTC), datetime(2027, 2, 8, 12, tzinfo=UTC), timedelta(hours=6))
    holders = {m["To"].addresses[0].addr_spec for m in world.sent()
               if PRIVATE in body(m) or any(PRIVATE.encode() in (p.get_payload(decode=True) or b"")
                                            for p in m.walk() if not p.is_multipart())}
    assert holders == {"sam@corp.example.com"}  # his own summary and journal
    assert any(SHARED in body(m) for m in world.to("dana@corp.example.com", "digest"))


def test_a_quiet_period_still_gets_a_short_digest(world):
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    world.run(datetime(2027, 1, 18, 12, tzinfo=UTC), datetime(2027, 1, 18, 12, tzinfo=UTC))
    second = body(world.to("erik@corp.example.com", "digest")[-1])
    assert "A quiet period: nothing changed" in second


def test_a_reply_to_a_digest_reaches_the_lead_and_is_never_a_command(world):
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    now = datetime(2027, 1, 11, 20, tzinfo=UTC)
    world.reply("dana@corp.example.com", "digest", "Please stop the challenge for team B? Just asking.\n\nDana",
                "outlook", now)
    world.tick(now)
    forwarded = world.to("lia@corp.example.com", "A sponsor wrote back")
    assert len(forwarded) == 1 and "Please stop the challenge for team B?" in body(forwarded[0])
    assert forwarded[0]["Reply-To"] == "dana@corp.example.com"
    assert any("your note went to Lia Moreau" in body(m) for m in world.to("dana@corp.example.com", "Re: "))
    assert all(c["state"] == "active" for c in challenges.list_challenges(world.db))


def test_unsubscribe_by_reply_turns_digests_off(world):
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    now = datetime(2027, 1, 11, 20, tzinfo=UTC)
    world.reply("erik@corp.example.com", "digest", "unsubscribe", "gmail", now)
    world.run(now, datetime(2027, 1, 26, 12, tzinfo=UTC), timedelta(hours=12))
    assert len(world.digests("erik@corp.example.com")) == 1
    assert world.to("erik@corp.example.com", "Re:")  # one confirmation


def test_a_reply_with_no_lead_is_kept_not_lost(world):
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    lia = people.find_person(world.db, "lia@corp.example.com")
    people.add_person(world.db, lia["email"], lia["name"], lia["timezone"], ("member",))
    now = datetime(2027, 1, 11, 20, tzinfo=UTC)
    world.reply("dana@corp.example.com", "digest", "Who runs this?", "gmail", now)
    result = world.tick(now)
    assert result.quarantined == 1


def test_the_leads_digest_lists_what_waits_for_her_and_a_sponsors_does_not(world):
    world.run(datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 6, 0, tzinfo=UTC))
    now = datetime(2027, 1, 6, 1, tzinfo=UTC)
    original = world.to("sam@corp.example.com", "Day 2 of 30")[-1].as_bytes()
    forged = compose_reply(original, "mallory@elsewhere.example", "Sam Carter", "stop", "gmail", now)
    deliver_to_inbox(world.settings.mail_dir, forged)
    world.reply("aiko@corp.example.com", "Day 2 of 30", "Mapped it. #share", "gmail", now)
    world.tick(now)
    world.run(datetime(2027, 1, 6, 3, tzinfo=UTC), datetime(2027, 1, 11, 18, tzinfo=UTC))
    lead = body(world.digests("lia@corp.example.com")[0])
    assert "WAITING FOR YOU" in lead and "1 message kept for you in this period" in lead
    assert "mallory@elsewhere.example: sender mallory@elsewhere.example is not the token's recipient" in lead
    assert "Waiting for you" in lead  # the HTML part says it too
    assert "WAITING FOR YOU" not in body(world.digests("dana@corp.example.com")[0])
