"""An approved project on an injected clock: check-ins in each member's local morning, replies
as updates, project news without any #private update, feedback to the team, a missed round
asked once, volunteers joining, completion, and the calls into the call and meetup flows."""
from __future__ import annotations

import logging
import sys
import types
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailer.flows.charter import add_team_member, digest_items, lifecycle, team_members
from mailer.store import charters, people
from tests.flows.charter.conftest import SUBMITTED, UTC, charter_toml, keys

H = timedelta(hours=1)
PLANTED = "ZEBRA-PLANTED-7731 our vendor contract is in trouble"
ZONES = {"alice@corp.example.com": "Europe/Paris", "bob@corp.example.com": "America/New_York",
         "carla@corp.example.com": "America/Mexico_City"}


def approved(world, write_charter, extra: str = "") -> int:
    cid = lifecycle.submit(world.db, write_charter(charter_toml(approvers=("priya",), extra=extra)), SUBMITTED)
    world.tick(SUBMITTED)
    world.reply("priya@corp.example.com", "Approved", SUBMITTED + H)
    assert charters.get_charter(world.db, cid)["status"] == "approved"
    return cid


def checkins(world) -> list[tuple[str, str, datetime]]:
    found = []
    for msg in world.sent():
        subject = str(msg["Subject"])
        if "check-in" in subject or "your findings" in subject:
            found.append((msg["To"].addresses[0].addr_spec, subject, msg["Date"].datetime))
    return found


def every_text(world) -> str:
    """Every part of every email sent, decoded."""
    out = []
    for msg in world.sent():
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                out.append(part.get_content())
    return "\n".join(out)


def test_checkins_arrive_on_cadence_in_each_local_morning(world, write_charter):
    approved(world, write_charter)
    world.walk(SUBMITTED + H, datetime(2027, 3, 2, tzinfo=UTC), H)
    got = checkins(world)
    for address in ("alice@corp.example.com", "bob@corp.example.com"):
        mine = [(s, d) for a, s, d in got if a == address]
        assert [s.rsplit(": ", 1)[1] for s, _ in mine] == ["check-in 1 of 3", "check-in 2 of 3", "check-in 3 of 3",
                                                           "your findings"]
        for _, moment in mine:
            assert moment.astimezone(ZoneInfo(ZONES[address])).hour == 9
        assert [d.astimezone(ZoneInfo(ZONES[address])).date().isoformat() for _, d in mine] == \
            ["2027-01-18", "2027-02-01", "2027-02-15", "2027-03-01"]
    assert charters.get_charter(world.db, 1)["status"] == "completed"


def test_updates_news_feedback_and_a_private_update_never_leaves(world, write_charter):
    cid = approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Drafted the alerting chapter.\n\nLearned: SLOs first.\n\nBest,\nAlice",
                datetime(2027, 1, 18, 21, tzinfo=UTC), "outlook", subject_part="check-in 1")
    world.reply("bob@corp.example.com", f"{PLANTED}\n#private", datetime(2027, 1, 19, 2, tzinfo=UTC), "apple",
                subject_part="check-in 1")
    updates = charters.updates(world.db, cid, shareable_only=False)
    assert [(u["email"], u["round"], u["shareable"]) for u in updates] == [
        ("alice@corp.example.com", 1, True), ("bob@corp.example.com", 1, False)]
    world.walk(datetime(2027, 1, 19, tzinfo=UTC), datetime(2027, 1, 23, tzinfo=UTC), H)
    news = [m for m in world.sent() if str(m["Subject"]).startswith("Project news")]
    receivers = {m["To"].addresses[0].addr_spec for m in news}
    assert {"carla@corp.example.com", "sponsor@corp.example.com", "alice@corp.example.com"} <= receivers
    assert "kenji@corp.example.com" not in receivers  # an approver-only person is not a member
    assert "Drafted the alerting chapter" in news[0].get_body(("plain",)).get_content()
    world.reply("carla@corp.example.com", "Great chapter! Could you add a runbook example?",
                datetime(2027, 1, 23, 15, tzinfo=UTC), "gmail", subject_part="Project news")
    fed = [m for m in world.sent() if "feedback from Carla" in str(m["Subject"])]
    assert {m["To"].addresses[0].addr_spec for m in fed} == {"alice@corp.example.com", "bob@corp.example.com"}
    assert "add a runbook example" in fed[0].get_body(("plain",)).get_content()
    items = digest_items(world.db, None, SUBMITTED, datetime(2027, 2, 1, tzinfo=UTC))
    world.walk(datetime(2027, 1, 25, 8, tzinfo=UTC), datetime(2027, 1, 25, 10, tzinfo=UTC), H)  # Monday digests
    digests = [m for m in world.sent() if "digest" in str(m["Subject"]).lower()
               and "sponsor@" in str(m["To"]) and "Drafted the alerting" in m.get_body(("plain",)).get_content()]
    assert digests, "the sponsor's digest carries the shareable update"
    assert PLANTED not in repr(items) and "ZEBRA" not in every_text(world)
    raw_all = b"".join(r["data"] for r in world.db.query("SELECT data FROM outbox JOIN outbox_data USING (id)"))
    assert b"ZEBRA" not in raw_all


def test_a_round_missed_while_down_is_asked_once(world, write_charter):
    approved(world, write_charter)
    world.walk(SUBMITTED + H, datetime(2027, 1, 17, tzinfo=UTC), 6 * H)
    world.walk(datetime(2027, 2, 3, tzinfo=UTC), datetime(2027, 2, 10, tzinfo=UTC), H)  # down 17 Jan - 3 Feb
    rounds = [s for a, s, _ in checkins(world) if a == "alice@corp.example.com"]
    assert rounds == ["Observability playbook: check-in 2 of 3"]


def test_a_volunteer_who_joins_gets_the_next_checkin(world, write_charter):
    cid = approved(world, write_charter)
    carla = people.find_person(world.db, "carla@corp.example.com")["id"]
    world.walk(SUBMITTED + H, datetime(2027, 1, 20, tzinfo=UTC), 6 * H)
    add_team_member(world.db, cid, carla, datetime(2027, 1, 20, tzinfo=UTC))
    assert team_members(world.db, cid)[-1] == carla
    world.walk(datetime(2027, 1, 20, tzinfo=UTC), datetime(2027, 2, 2, tzinfo=UTC), H)
    mine = [(s, d) for a, s, d in checkins(world) if a == "carla@corp.example.com"]
    assert [s for s, _ in mine] == ["Observability playbook: check-in 2 of 3"]
    assert mine[0][1].astimezone(ZoneInfo("America/Mexico_City")).hour == 9


REPORT_BACK = '[report_back]\ndays_after_end = 7\nhour = 15\nduration_minutes = 90\nlocation = "Room 4"\n'


@pytest.fixture
def other_flows(monkeypatch):
    """Stand-ins for the call and meetup flows (built in parallel): they record what they are asked."""
    asked: dict[str, list] = {"call": [], "meetup": []}
    call = types.ModuleType("mailer.flows.call")
    call.open_call = lambda db, spec, now: asked["call"].append(spec) or 11
    meetup = types.ModuleType("mailer.flows.meetup")
    meetup.schedule_meetup = lambda db, spec, now: asked["meetup"].append(spec) or 22
    monkeypatch.setitem(sys.modules, "mailer.flows.call", call)
    monkeypatch.setitem(sys.modules, "mailer.flows.meetup", meetup)
    return asked


def test_open_places_open_a_call_and_completion_offers_a_report_back(world, write_charter, other_flows):
    cid = approved(world, write_charter, REPORT_BACK)
    (spec,) = other_flows["call"]
    assert spec["feeds"] == f"charter:{cid}" and spec["to"] == "all" and spec["sender"] == "lead@corp.example.com"
    assert spec["roles"] == [{"name": "team member", "places": 1, "description": "2 h/week for 8 weeks"}]
    lifecycle.complete(world.db, cid, datetime(2027, 2, 10, 12, tzinfo=UTC))
    (meet,) = other_flows["meetup"]
    assert meet["start"] == datetime(2027, 2, 17, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    assert (meet["invite"], meet["source"], meet["duration_minutes"], meet["location"]) == \
        ([f"charter:{cid}", "member"], f"charter:{cid}", 90, "Room 4")  # the team reports to the community
    c = charters.get_charter(world.db, cid)
    assert (c["call_id"], c["meetup_id"], c["status"]) == (11, 22, "completed")
    world.tick(datetime(2027, 2, 10, 12, tzinfo=UTC))
    assert len(keys(world.db, ":findings:")) == 1  # Alice's morning in Paris is past; Bob's is to come
    world.tick(datetime(2027, 2, 10, 15, tzinfo=UTC))
    assert len(keys(world.db, ":findings:")) == 2


def test_without_the_call_flow_nothing_is_recorded_and_a_warning_is_logged(world, write_charter, caplog,
                                                                           monkeypatch):
    monkeypatch.setitem(sys.modules, "mailer.flows.call", None)  # a build without the call flow
    with caplog.at_level(logging.WARNING):
        cid = approved(world, write_charter)
    assert charters.get_charter(world.db, cid)["call_id"] is None
    assert "open_call is not available" in caplog.text


def test_digest_items_are_scoped_to_sponsors(world, write_charter):
    cid = lifecycle.submit(world.db, write_charter(), SUBMITTED)
    world.tick(SUBMITTED)
    world.reply("priya@corp.example.com", "Approved", SUBMITTED + H)
    until = SUBMITTED + 2 * H
    (item,) = digest_items(world.db, "Sponsor@corp.example.com", SUBMITTED, until)
    assert item.ref == f"charter:{cid}" and item.status.startswith("waiting for approval")
    assert any("Waiting for Omar Haddad" in f for f in item.facts)
    assert any("Priya Sharma approved version 1" in c for c in item.changed)
    assert digest_items(world.db, "alice@corp.example.com", SUBMITTED, until) == []
    assert len(digest_items(world.db, None, SUBMITTED, until)) == 1
    world.reply("omar@corp.example.com", "Approved", SUBMITTED + 2 * H)
    (item,) = digest_items(world.db, None, SUBMITTED, datetime(2027, 1, 25, tzinfo=UTC))
    # The plan is the charter's own: 3 people (2 named, 1 open place) × 2 h/week × 8 weeks.
    assert any("so far of the 48 hours planned (2 of 3 people on the team so far)" in f for f in item.facts), \
        item.facts
    assert "Next check-in: Mon 1 Feb 2027." in item.facts, item.facts


def test_stop_to_project_news_stops_only_that_news(world, write_charter):
    approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Drafted the alerting chapter.", datetime(2027, 1, 18, 21, tzinfo=UTC),
                subject_part="check-in 1")
    world.walk(datetime(2027, 1, 21, tzinfo=UTC), datetime(2027, 1, 22, tzinfo=UTC), H)
    world.reply("carla@corp.example.com", "stop", datetime(2027, 1, 22, 1, tzinfo=UTC), subject_part="Project news")
    assert charters.feedback(world.db, 1) == []
    assert [r["subject"] for r in world.rows_to("carla@corp.example.com")][-1].startswith("Re: Project news")
    world.walk(datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 2, 1, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Second chapter done.", datetime(2027, 2, 1, 21, tzinfo=UTC),
                subject_part="check-in 2")
    world.walk(datetime(2027, 2, 4, tzinfo=UTC), datetime(2027, 2, 5, tzinfo=UTC), H)
    news = [r for r in world.db.query("SELECT * FROM outbox JOIN outbox_data USING (id) WHERE key LIKE 'charter:1:news:2:%'")]
    assert news and "carla@corp.example.com" not in {r["to_addr"] for r in news}


def test_sponsors_are_named_for_digests_while_the_charter_is_live(world, write_charter):
    from mailer.flows.charter.digest import sponsor_emails

    cid = lifecycle.submit(world.db, write_charter(), SUBMITTED)
    assert sponsor_emails(world.db, SUBMITTED) == {"sponsor@corp.example.com"}
    lifecycle.withdraw(world.db, cid, SUBMITTED)
    assert sponsor_emails(world.db, SUBMITTED + timedelta(days=13)) == {"sponsor@corp.example.com"}
    assert sponsor_emails(world.db, SUBMITTED + timedelta(days=15)) == set()
    assert digest_items(world.db, None, SUBMITTED + timedelta(days=15), SUBMITTED + timedelta(days=22)) == []


def test_a_late_update_is_carried_by_the_next_news(world, write_charter):
    approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "On time: alerting chapter.", datetime(2027, 1, 18, 21, tzinfo=UTC),
                subject_part="check-in 1")
    world.walk(datetime(2027, 1, 21, tzinfo=UTC), datetime(2027, 1, 22, tzinfo=UTC), H)  # news 1 goes out
    world.reply("bob@corp.example.com", "Late but here: dashboards reviewed.", datetime(2027, 1, 25, tzinfo=UTC),
                subject_part="check-in 1")
    world.walk(datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 2, 5, tzinfo=UTC), H)  # round 2, news 2
    texts = {}
    for msg in world.sent():
        if str(msg["Subject"]).startswith("Project news") and "carla" in str(msg["To"]):
            texts[len(texts) + 1] = msg.get_body(("plain",)).get_content()
    assert "On time" in texts[1] and "Late but here" not in texts[1]
    assert "Late but here" in texts[2] and "On time" not in texts[2]


def test_the_real_call_fills_open_places_and_volunteers_get_the_next_checkin(world, write_charter):
    pytest.importorskip("mailer.flows.call")
    cid = approved(world, write_charter)
    call_id = charters.get_charter(world.db, cid)["call_id"]
    assert call_id is not None
    world.walk(SUBMITTED + 2 * H, SUBMITTED + 6 * H, H)
    world.reply("carla@corp.example.com", "Count me in!", SUBMITTED + 7 * H, "outlook",
                subject_part="Volunteers wanted")
    carla = people.find_person(world.db, "carla@corp.example.com")["id"]
    assert carla in team_members(world.db, cid)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 19, tzinfo=UTC), H)
    assert [s for a, s, _ in checkins(world) if a == "carla@corp.example.com"] == \
        ["Observability playbook: check-in 1 of 3"]


def test_a_volunteer_who_withdraws_before_the_call_closes_leaves_the_team(world, write_charter):
    pytest.importorskip("mailer.flows.call")
    cid = approved(world, write_charter)
    world.walk(SUBMITTED + 2 * H, SUBMITTED + 6 * H, H)
    world.reply("carla@corp.example.com", "Count me in!", SUBMITTED + 7 * H, subject_part="Volunteers wanted")
    carla = people.find_person(world.db, "carla@corp.example.com")["id"]
    assert carla in team_members(world.db, cid)
    world.reply("carla@corp.example.com", "I have to withdraw, sorry", datetime(2027, 1, 8, 12, tzinfo=UTC),
                subject_part="Volunteers wanted")
    assert carla not in team_members(world.db, cid)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 19, tzinfo=UTC), H)
    assert [s for a, s, _ in checkins(world) if a == "carla@corp.example.com"] == []


def test_the_call_for_open_places_is_not_sent_to_the_proposer_or_the_team(world, write_charter):
    """Issue 20: "We are looking for volunteers: Join the project team …" reached the people
    already on the team and the proposer."""
    pytest.importorskip("mailer.flows.call")
    approved(world, write_charter)
    world.walk(SUBMITTED + 2 * H, SUBMITTED + 30 * H, H)
    invited = {msg["To"].addresses[0].addr_spec for msg in world.sent()
               if "Volunteers wanted" in str(msg["Subject"])}
    assert "carla@corp.example.com" in invited
    assert not invited & {"lead@corp.example.com", "alice@corp.example.com", "bob@corp.example.com"}


def test_before_any_news_opens_a_tick_does_not_read_the_community(world, write_charter):
    approved(world, write_charter)
    world.tick(SUBMITTED + 2 * H)
    seen: list[str] = []
    world.db.conn.set_trace_callback(seen.append)
    try:
        world.tick(SUBMITTED + 3 * H)
    finally:
        world.db.conn.set_trace_callback(None)
    assert not [s for s in seen if s.startswith("SELECT * FROM people ORDER BY email")]


def _statements(world, now: datetime) -> list[str]:
    seen: list[str] = []
    world.db.conn.set_trace_callback(seen.append)
    try:
        world.tick(now)
    finally:
        world.db.conn.set_trace_callback(None)
    return seen


def _news_to(world, address: str) -> list[str]:
    return [str(m["Subject"]) for m in world.sent()
            if str(m["Subject"]).startswith("Project news") and address in str(m["To"])]


def test_once_news_went_out_a_tick_reads_neither_the_community_nor_the_keys(world, write_charter):
    approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Alerting chapter drafted.", datetime(2027, 1, 18, 21, tzinfo=UTC),
                subject_part="check-in 1")
    world.walk(datetime(2027, 1, 21, tzinfo=UTC), datetime(2027, 1, 23, tzinfo=UTC), H)  # news 1 everywhere
    assert _news_to(world, "carla@corp.example.com")
    seen = _statements(world, datetime(2027, 1, 23, 1, tzinfo=UTC))
    assert not [s for s in seen if s.startswith("SELECT * FROM people ORDER BY email")]
    assert not [s for s in seen if "charter:1:" in s and "outbox" in s]


def test_news_with_nothing_to_carry_goes_out_when_an_update_comes(world, write_charter):
    approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 23, tzinfo=UTC), H)  # round 1: nobody answered
    assert not _news_to(world, "carla@corp.example.com")
    world.reply("alice@corp.example.com", "Late: alerting chapter drafted.", datetime(2027, 1, 23, 1, tzinfo=UTC),
                subject_part="check-in 1")
    world.tick(datetime(2027, 1, 23, 2, tzinfo=UTC))
    assert _news_to(world, "carla@corp.example.com")


def test_a_member_who_arrives_after_the_news_gets_it(world, write_charter):
    approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Alerting chapter drafted.", datetime(2027, 1, 18, 21, tzinfo=UTC),
                subject_part="check-in 1")
    world.walk(datetime(2027, 1, 21, tzinfo=UTC), datetime(2027, 1, 23, tzinfo=UTC), H)
    people.add_person(world.db, "newcomer@corp.example.com", "Nia Newcomer", "Europe/Paris")
    world.tick(datetime(2027, 1, 23, 1, tzinfo=UTC))
    assert _news_to(world, "newcomer@corp.example.com")


def test_a_member_who_moves_zone_gets_the_news_in_the_new_morning(world, write_charter):
    approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Alerting chapter drafted.", datetime(2027, 1, 18, 21, tzinfo=UTC),
                subject_part="check-in 1")
    # 21 Jan 09:00 in Paris has come, not yet in Mexico City: carla (Mexico City) waits
    world.walk(datetime(2027, 1, 21, tzinfo=UTC), datetime(2027, 1, 21, 10, tzinfo=UTC), H)
    assert not _news_to(world, "carla@corp.example.com")
    world.db.execute("UPDATE people SET timezone = 'Europe/Paris' WHERE email = 'carla@corp.example.com'")
    world.tick(datetime(2027, 1, 21, 10, 30, tzinfo=UTC))
    assert _news_to(world, "carla@corp.example.com")


def test_a_member_who_takes_the_news_up_again_gets_it_at_the_next_tick(world, write_charter):
    """The preferences page's "news back on" clears the charter's plan mark (a trigger)."""
    from mailer.store import charters

    approved(world, write_charter)
    carla = people.find_person(world.db, "carla@corp.example.com")["id"]
    charters.stop_news(world.db, 1, carla, datetime(2027, 1, 17, tzinfo=UTC))
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    world.reply("alice@corp.example.com", "Alerting chapter drafted.", datetime(2027, 1, 18, 21, tzinfo=UTC),
                subject_part="check-in 1")
    world.walk(datetime(2027, 1, 21, tzinfo=UTC), datetime(2027, 1, 23, tzinfo=UTC), H)
    assert not _news_to(world, "carla@corp.example.com")
    charters.resume_news(world.db, 1, carla)
    world.tick(datetime(2027, 1, 23, 1, tzinfo=UTC))
    assert _news_to(world, "carla@corp.example.com")
