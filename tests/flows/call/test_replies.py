"""Replies to a call: sign-ups, waitlists, withdrawals with promotion, unknown roles, questions,
and the polite "closed" after the closing day."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from click.testing import CliRunner

from mailer.cli import main
from mailer.flows.call import confirmed
from mailer.store import calls as store
from mailer.store import outbox as outbox_store
from tests.flows.call.conftest import AIKO, LENA, OLIVER, OPENED, PRIYA, SAM, UTC, call_toml

LATER = OPENED + timedelta(hours=2)


def statuses(db, call_id: int) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for s in store.signups(db, call_id):
        found.setdefault(s["role"], []).append((s["email"], s["status"]))
    return found


def show_json(home, call_id: int, now: datetime) -> dict:
    result = CliRunner().invoke(main, ["--home", str(home), "call", "show", str(call_id), "--json",
                                       "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_call_goes_to_every_member_with_the_places_left(sim, opened):
    plans = sim.tick(OPENED)
    assert sorted(p.to for p in plans) == sorted([AIKO, PRIYA, OLIVER, SAM, LENA])  # not the sponsor
    invite = plans[0]
    assert invite.reply_purpose == "volunteer" and invite.reply_ref == f"call:{opened}"
    assert [r["line"] for r in invite.context["roles"]] == ["writer: 2 of 2 left", "reviewer: 1 of 1 left"]
    assert sim.tick(OPENED + timedelta(hours=1)) == []


def test_two_places_four_volunteers_then_a_withdrawal_promotes_the_first_waiting(sim, opened, home):
    sim.tick(OPENED)
    answers = [sim.reply(who, opened, "Count me in as a writer", LATER + timedelta(minutes=n))
               for n, who in enumerate((AIKO, PRIYA, OLIVER, SAM))]
    assert [a[0].key.split(":")[2] for a in answers] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [a[0].context.get("position") for a in answers[2:]] == [1, 2]
    shown = show_json(home, opened, LATER)["roles"][0]
    assert shown == {"name": "writer", "places": 2, "description": "Drafts two chapters",
                     "confirmed": [AIKO, PRIYA], "waitlist": [OLIVER, SAM]}

    plans = sim.reply(PRIYA, opened, "I can't do it after all", LATER + timedelta(hours=1))
    assert [(p.to, p.key.split(":")[2]) for p in plans] == [(PRIYA, "withdrawn"), (OLIVER, "promoted")]
    assert plans[1].reply_purpose == "volunteer"  # Oliver can withdraw by replying to it
    shown = show_json(home, opened, LATER + timedelta(hours=1))["roles"][0]
    assert (shown["confirmed"], shown["waitlist"]) == ([AIKO, OLIVER], [SAM])

    # later emails agree with call show: the list at closing, and Sam's position
    sim.reply(AIKO, opened, "Please take me off the team", LATER + timedelta(hours=2))
    shown = show_json(home, opened, LATER + timedelta(hours=2))["roles"][0]
    assert (shown["confirmed"], shown["waitlist"]) == ([OLIVER, SAM], [])
    assert [p.to for p in sim.to(SAM, "promoted")] == [SAM]
    sim.tick(datetime(2027, 1, 21, 12, tzinfo=UTC))
    (listed,) = sim.to(LENA, "list")
    writer = listed.context["roles"][0]
    assert [p["email"] for p in writer["confirmed"]] == shown["confirmed"]
    assert [p["email"] for p in writer["waitlist"]] == shown["waitlist"]


def test_two_replies_for_the_last_place_one_wins_the_other_waits(sim, opened):
    sim.tick(OPENED)
    first = sim.reply(AIKO, opened, "I'm in as reviewer", LATER)
    second = sim.reply(PRIYA, opened, "I'm in as reviewer", LATER)
    assert [first[0].key.split(":")[2], second[0].key.split(":")[2]] == ["confirmed", "waitlisted"]
    assert statuses(sim.db, opened)["reviewer"] == [(AIKO, "confirmed"), (PRIYA, "waitlisted")]


def test_volunteering_twice_changes_nothing(sim, opened):
    sim.tick(OPENED)
    sim.reply(AIKO, opened, "I'm in as writer", LATER)
    assert sim.reply(AIKO, opened, "I'm in!", LATER + timedelta(minutes=5)) == []
    assert sim.reply(AIKO, opened, "Count me in as a writer", LATER + timedelta(minutes=6)) == []
    assert statuses(sim.db, opened) == {"writer": [(AIKO, "confirmed")]}


def test_no_role_named_goes_to_the_role_with_most_places_left(sim, opened):
    sim.tick(OPENED)
    sim.reply(AIKO, opened, "I'm in as writer", LATER)
    sim.reply(PRIYA, opened, "I'm in as writer", LATER)
    (answer,) = sim.reply(OLIVER, opened, "Sign me up!", LATER)
    assert answer.context["role"] == "reviewer" and "confirmed" in answer.key


def test_confirmation_says_what_and_how_to_withdraw(sim, opened):
    sim.tick(OPENED)
    (answer,) = sim.reply(AIKO, opened, "Happy to help with reviewing", LATER)
    assert answer.context["role"] == "reviewer" and answer.auto_reply and answer.in_reply_to
    text = _rendered(sim.db, answer.key)
    assert "You're in: Playbook writers, as reviewer." in text
    assert 'reply "withdraw"' in text


def test_an_unknown_role_gets_the_list_of_roles_and_changes_nothing(sim, opened):
    sim.tick(OPENED)
    (answer,) = sim.reply(AIKO, opened, "Sign me up as an editor", LATER)
    assert "unknownrole" in answer.key
    text = _rendered(sim.db, answer.key)
    assert 'no "editor" role' in text and "writer: 2 of 2 left" in text and "reviewer: 1 of 1 left" in text
    assert statuses(sim.db, opened) == {}


def test_decline_changes_nothing_and_unclear_gets_one_question_a_day(sim, opened):
    sim.tick(OPENED)
    assert sim.reply(AIKO, opened, "Sorry, not this time", LATER) == []
    first = sim.reply(PRIYA, opened, "What does a reviewer do exactly?", LATER)
    again = sim.reply(PRIYA, opened, "Hmm, tell me more?", LATER + timedelta(hours=1))
    assert [p.key for p in first] == [p.key for p in again]
    assert len(outbox_store.existing_keys(sim.db, f"call:{opened}:unclear:")) == 1
    assert statuses(sim.db, opened) == {}


def test_withdrawing_when_not_signed_up_changes_nothing(sim, opened):
    sim.tick(OPENED)
    assert sim.reply(AIKO, opened, "Please take me off", LATER) == []


def test_after_the_closing_day_replies_get_one_polite_closed(sim, opened):
    sim.tick(OPENED)
    sim.reply(AIKO, opened, "I'm in as writer", LATER)
    # 21 Jan 01:00 UTC: already the 21st in Tokyo (closed for Aiko), still the 20th in New York
    late = datetime(2027, 1, 21, 1, 0, tzinfo=UTC)
    (closed,) = sim.reply(PRIYA, opened, "Count me in as a writer", late)
    assert "closed" in closed.key and closed.reply_purpose == "volunteer"  # a reply to it still has a place
    assert "has closed (the last day was Wed 20 Jan)" in _rendered(sim.db, closed.key)
    (aiko_closed,) = sim.reply(AIKO, opened, "Please take me off", late)  # too late to withdraw, too
    assert "closed" in aiko_closed.key and aiko_closed.to == AIKO
    (samsays,) = sim.reply(SAM, opened, "I'm in as writer", late)  # New York: still the 20th
    assert "confirmed" in samsays.key
    assert statuses(sim.db, opened)["writer"] == [(AIKO, "confirmed"), (SAM, "confirmed")]
    assert sim.tick(late) == []  # not closed everywhere yet: no list
    sim.tick(datetime(2027, 1, 21, 12, 0, tzinfo=UTC))
    (listed,) = sim.to(LENA, "list")
    assert [p["email"] for p in listed.context["roles"][0]["confirmed"]] == [AIKO, SAM]
    again = sim.reply(PRIYA, opened, "Count me in as a writer", datetime(2027, 1, 22, tzinfo=UTC))
    assert [p.key for p in again] == [closed.key]  # the same email: the outbox keeps one
    assert len(outbox_store.existing_keys(sim.db, f"call:{opened}:closed:")) == 2


def test_call_close_closes_now_and_the_sender_gets_the_list(sim, opened, home):
    sim.tick(OPENED)
    sim.reply(AIKO, opened, "I'm in", LATER)
    result = CliRunner().invoke(main, ["--home", str(home), "call", "close", str(opened), "--now", LATER.isoformat()])
    assert result.exit_code == 0 and "closed" in result.output
    (listed,) = [p for p in sim.tick(LATER + timedelta(minutes=1)) if p.to == LENA]
    assert "list" in listed.key
    (answer,) = sim.reply(PRIYA, opened, "I'm in", LATER + timedelta(minutes=2))
    assert "closed" in answer.key
    text = _rendered(sim.db, answer.key)
    assert "has closed, so we could not act on your reply" in text  # closed early: no "last day was"


def test_a_call_without_roles_has_one_unlimited_role(sim, community, write_call, db):
    from mailer.flows.call.definition import load_spec, open_call

    call_id = open_call(db, load_spec(write_call(call_toml(roles=""))), OPENED)
    sim.tick(OPENED)
    for n, who in enumerate((AIKO, PRIYA, OLIVER, SAM)):
        (answer,) = sim.reply(who, call_id, "Count me in as a writer" if n == 0 else "I'm in", LATER)
        assert "confirmed" in answer.key
    assert confirmed(db, call_id) == [sim.db.execute("SELECT id FROM people WHERE email = ?", [e]).fetchone()[0]
                                      for e in (AIKO, PRIYA, OLIVER, SAM)]
    text = _rendered(db, f"call:{call_id}:invite:person:" + str(community[AIKO]))
    assert "Roles and places" not in text and 'reply to this email with "I\'m in"' in text


def _rendered(db, key: str) -> str:
    import email
    import email.policy

    row = next(db.query("SELECT data FROM outbox JOIN outbox_data USING (id) WHERE key = ?", [key]))
    msg = email.message_from_bytes(row["data"], policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()
