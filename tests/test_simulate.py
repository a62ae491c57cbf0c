"""``simulate``: the real worker on a simulated clock; its report agrees with the store."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main
from mailer.config import load_settings
from mailer.inbound.calendar_reply import read_rsvp
from mailer.inbound.message import parse_message
from mailer.outbound import invite
from mailer.simulation import calendar_client, scenario, simulate, writing
from mailer.simulation.community import make_community
from mailer.store import calls as call_store
from mailer.store import challenges, open_db, people
from mailer.store import charters as charter_store
from mailer.store import meetups as meetup_store
from mailer.store import outbox as outbox_store


def test_a_small_community_for_three_days_matches_the_store(tmp_path: Path):
    home = tmp_path / "sim"
    report = simulate(home, members=40, days=3, reply_rate=0.7, seed=5)
    db = open_db(load_settings(home, env={}).db_path)
    total = report.totals()
    cid = challenges.list_challenges(db)[0]["id"]
    assert total["sent"] == outbox_store.counts(db).get("sent", 0) > 40
    assert total["journaled"] == challenges.count_entries(db, cid)
    assert 0 < total["journaled"] <= total["replies_written"]  # automatic replies are never entries
    assert total["bounced"] == people.count_with_status(db, "bounced")
    assert total["bounced"] <= sum(m.bounces for m in make_community(40, 3, 5))
    entries = [e["text"] for p in challenges.list_participants(db, cid) for e in challenges.entries(db, p["person_id"])]
    assert entries and not any(tail in text for text in entries
                               for tail in ("Best regards", "Sent from my iPhone", "Von meinem iPhone", "wrote:"))


def test_the_same_seed_gives_the_same_community():
    assert make_community(50, 30, 9) == make_community(50, 30, 9)
    assert make_community(50, 30, 9) != make_community(50, 30, 10)


def test_the_command_refuses_a_home_that_holds_a_community_and_speaks_json(tmp_path: Path):
    home = tmp_path / "sim"
    runner = CliRunner()
    result = runner.invoke(main, ["--home", str(home), "simulate", "--members", "5", "--days", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["members"] == 5 and len(data["per_day"]) == 1 and data["totals"]["sent"] >= 5
    # per stage (issue 25): the tick's own split, beside setup and the simulated members, and peak memory
    assert {"setup_s", "tick_s", "members_s", "inbound_s", "planning_s", "sending_s"} <= set(data["stages"])
    assert data["peak_rss_mb"] > 0
    # and per day: the members' part split in mail arriving and mail read, the peak memory so far
    day = data["per_day"][0]
    assert {"arriving_s", "reading_s", "members_s", "tick_s", "planning_s", "members_cpu_s"} <= set(day["stages"])
    assert 0 < day["peak_rss_mb"] <= data["peak_rss_mb"] and set(day["peak_rise_mb"]) <= {"arriving", "tick", "reading"}
    again = runner.invoke(main, ["--home", str(home), "simulate", "--members", "5", "--days", "1"])
    assert again.exit_code == 2 and "already holds a community" in again.output


def _written(db, phrases: list[str]) -> set[str]:
    """Who sent a message starting with one of ``phrases``, read back from the inbox's raw bytes."""
    found = set()
    for row in db.query("SELECT raw FROM inbox"):
        msg = parse_message(row["raw"])
        if (msg.text or "").lstrip().startswith(tuple(phrases)):
            found.add(msg.from_addr)
    return found


def test_a_charter_is_approved_by_reply_volunteers_join_and_rsvps_are_kept(tmp_path: Path):
    home = tmp_path / "sim"
    report = simulate(home, members=40, days=5, reply_rate=0.7, seed=5)
    db = open_db(load_settings(home, env={}).db_path)
    p = report.totals()["projects"]
    charter = charter_store.list_charters(db)[0]
    decided = charter_store.decisions(db, charter["id"])
    assert charter["status"] == p["charter"] == "approved"
    assert {d["approver"] for d in decided} == set(charter["spec"]["approvers"])
    assert [d["decision"] for d in decided] == ["approve"] * 3 == ["approve"] * p["approvals_recorded"]
    signups = call_store.signups(db, charter["call_id"])
    joined = {m["email"] for m in charter_store.members(db, charter["id"])} - set(charter["spec"]["team"])
    assert len(joined) == p["joined_team"] == charter["spec"]["open_places"] == scenario.open_places(40)
    assert joined == {s["email"] for s in signups if s["status"] == "confirmed"}
    assert p["waitlisted"] == sum(s["status"] == "waitlisted" for s in signups)
    assert p["volunteered"] >= len(signups) > len(joined)
    busy = _written(db, [t for ts in writing.BUSY.values() for t in ts])
    assert busy and len(busy) == p["busy_replies"]  # "I'm in a meeting" arrived, and signed no one up
    assert not busy & {s["email"] for s in call_store.signups(db, charter["call_id"], include_withdrawn=True)}
    meetup = meetup_store.list_meetups(db)[0]
    invitees = meetup_store.list_invitees(db, meetup["id"])
    counted = {k: sum(i["partstat"] == k for i in invitees) for k in ("accepted", "declined", "tentative")}
    assert counted == {k: p[k] for k in counted} and sum(counted.values()) == p["rsvps_sent"]
    kinds = {a["kind"] for a in meetup_store.answers(db, meetup["id"])}
    assert {"calendar", "text"} <= kinds and p["rsvps_by_calendar"] > 0
    assert p["wrong_approvals"] == p["wrong_signups"] == p["wrong_rsvps"] == 0
    # every message received ended in an outcome someone can see, every day (DESIGN.md principle 10)
    ended = {k: sum(day.outcomes.get(k, 0) for day in report.per_day) for k in ("change", "answer", "kept", "none")}
    assert ended["none"] == 0 and ended["change"] > 0 and ended["answer"] > 0 and ended["kept"] > 0
    assert sum(ended.values()) == sum(day.received for day in report.per_day) == db.execute(
        "SELECT count(*) FROM inbox WHERE outcome IN ('change', 'answer', 'kept')").fetchone()[0]


def _invitation_email(ics: bytes) -> bytes:
    msg = MIMEMultipart("mixed")
    msg.attach(MIMEText("You are invited.", "plain", "utf-8"))
    part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", "REQUEST")
    msg.attach(part)
    return msg.as_bytes()


def test_a_calendar_reply_names_the_event_version_and_answer_in_each_clients_shape():
    event = invite.EventInfo("meetup-abc@cop-mailer", 2, "Report-back: Chloé's team",
                             datetime(2027, 1, 6, 16, tzinfo=timezone.utc), 45, "Online")
    ics = invite.request(event, invite.Party("cop@sim.example.com"), invite.Party("ana@sim.example.com"),
                         datetime(2027, 1, 3, tzinfo=timezone.utc))
    raw = _invitation_email(ics)
    invitation = calendar_client.read_invitation(raw)
    assert invitation.uid == event.uid and invitation.sequence == 2
    for client, partstat in (("outlook", "ACCEPTED"), ("gmail", "DECLINED"), ("apple", "TENTATIVE")):
        reply = calendar_client.reply(invitation, client, "ana@sim.example.com", "Ana Novak", partstat,
                                      "Depends; on my release, sorry" if client != "apple" else "",
                                      datetime(2027, 1, 3, 9, tzinfo=timezone.utc))
        msg = parse_message(reply)
        rsvp = read_rsvp(msg.calendar, msg.from_addr)
        assert (msg.calendar_method, rsvp.uid, rsvp.sequence, rsvp.partstat, rsvp.attendee) == \
            ("REPLY", event.uid, 2, partstat, "ana@sim.example.com"), client
        assert not msg.header("In-Reply-To")  # calendars answer the ORGANIZER, without our token


def test_the_plain_report_shows_the_projects_unless_asked_for_the_challenge_only(tmp_path: Path):
    runner = CliRunner()
    both = runner.invoke(main, ["--home", str(tmp_path / "a"), "simulate", "--members", "6", "--days", "1"])
    assert both.exit_code == 0, both.output
    assert "approvals sent/kept" in both.output and "wrong actions: none" in both.output
    assert "what each message received ended in" in both.output and "0 without an outcome" in both.output
    alone = runner.invoke(main, ["--home", str(tmp_path / "b"), "simulate", "--members", "6", "--days", "1",
                                 "--challenge-only", "--json"])
    data = json.loads(alone.output)
    assert data["projects"] is False and data["totals"]["projects"]["rsvps_sent"] == 0
    assert not (tmp_path / "b" / "charters").exists()


def test_simulated_members_read_their_own_language(tmp_path: Path):
    home = tmp_path / "sim"
    simulate(home, members=12, days=2, reply_rate=0.5, seed=3, projects=False)
    db = open_db(load_settings(home, env={}).db_path)
    community = make_community(12, 2, 3)
    stored = {p["email"]: p["language"] for p in people.list_people(db)}
    assert {m.email: m.language for m in community}.items() <= stored.items()
    assert len({m.language for m in community}) >= 3
    day_one = {"en": "Day 1 of", "de": "Tag 1 von", "fr": "Jour 1 sur", "es": "Día 1 de", "ja": "1日目"}
    subjects = {row["to_addr"]: row["subject"] for row in db.query("SELECT to_addr, subject FROM outbox WHERE key LIKE '%:day:1:%'")}
    assert subjects and all(subjects[m.email].startswith(day_one[m.language]) for m in community if m.email in subjects)
    db.close()
