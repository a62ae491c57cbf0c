"""What a meetup's emails say, read as the invitee reads them (issue 21).

Times across a clock change carry a label at each end and always the length; an update says
what moved; a description in Markdown reads the same, without marks, in the HTML part, the
text part and the calendar's DESCRIPTION; an answer in words gets one short line back, a
calendar's answer none; answers to the old time stay visible after a move.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.flows.meetup import actions
from mailer.flows.meetup.definition import to_utc
from mailer.simulation.replies import compose_reply
from mailer.store import outbox as outbox_store
from tests.flows.meetup.conftest import SCHEDULED_AT, email_parts, sent_bytes, spec
from tests.flows.meetup.test_rsvp import (ARRIVES, CAROL, answer_of, invitation, invited, run_inbox,  # noqa: F401
                                          sample)
from mailer.flows import meetup

ANA = "ana@corp.example.com"


def invite_text(db, sim, crew, zone: str, local: datetime, minutes: int, **more) -> dict:
    meetup_id = meetup.schedule_meetup(db, spec(to_utc(local, zone, "t"), zone, duration_minutes=minutes, **more),
                                       SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    return email_parts(sent_bytes(db, f"meetup:{meetup_id}:invite:seq:0:person:{crew[ANA]}"))


@pytest.mark.parametrize("local,label", [
    # 01:00 GMT becomes 02:00 BST: two hours from 00:30 GMT end at 03:30 BST.
    (datetime(2027, 3, 28, 0, 30), "Sun 28 Mar 2027, 00:30 GMT – 03:30 BST (2 hours), your time (Europe/London)"),
    # 02:00 BST becomes 01:00 GMT: two hours from 00:30 BST end at 01:30 GMT.
    (datetime(2027, 10, 31, 0, 30), "Sun 31 Oct 2027, 00:30 BST – 01:30 GMT (2 hours), your time (Europe/London)"),
    (datetime(2027, 3, 30, 18, 0), "Tue 30 Mar 2027, 18:00–20:00 (2 hours), your time (Europe/London, BST)"),
])
def test_each_end_is_labelled_when_the_clocks_change_and_the_length_is_given(db, settings, sim, crew, local,
                                                                              label):
    parts = invite_text(db, sim, crew, "Europe/London", local, 120)
    assert label in parts["text/plain"]
    assert label in parts["text/html"]


def test_a_markdown_description_reads_without_marks_everywhere(db, settings, sim, crew):
    text = ("We compare our **Testing habits** and *one* flaky test each.\n\n"
            "- bring a [trace](https://wiki.test/trace?a=1&b=2)\n- <script>alert(1)</script>\n\n"
            "[no](javascript:alert(1))")
    parts = invite_text(db, sim, crew, "Europe/London", datetime(2027, 3, 30, 18, 0), 60, description=text)
    plain, html = parts["text/plain"], parts["text/html"]
    description = str(icalendar.Calendar.from_ical(parts["inline"]).events[0]["DESCRIPTION"])
    for shown in (plain, description):
        assert "We compare our Testing habits and one flaky test each." in shown
        assert "- bring a trace (https://wiki.test/trace?a=1&b=2)" in shown
        assert "**" not in shown and "](https" not in shown
    assert "<strong>Testing habits</strong>" in html and "<em>one</em>" in html
    assert '<a href="https://wiki.test/trace?a=1&amp;b=2"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_the_update_says_what_moved(db, settings, sim, crew):
    meetup_id = meetup.schedule_meetup(db, spec(to_utc(datetime(2027, 3, 25, 18, 0), "Europe/London", "t")),
                                       SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    later = SCHEDULED_AT + timedelta(days=1)
    actions.move_meetup(db, meetup_id, to_utc(datetime(2027, 4, 1, 18, 30), "Europe/London", "t"), 90, later)
    sim.tick(later)
    parts = email_parts(sent_bytes(db, f"meetup:{meetup_id}:invite:seq:1:person:{crew[ANA]}"))
    assert "Was:   Thu 25 Mar 2027, 18:00–19:00 (1 hour)\n" in parts["text/plain"].replace("\r\n", "\n")
    assert ("Now:   Thu 1 Apr 2027, 18:30–20:00 (1 hour 30 minutes), your time (Europe/London, BST)"
            in parts["text/plain"])
    assert "<s>Thu 25 Mar 2027, 18:00–19:00 (1 hour)</s>" in parts["text/html"]


def test_the_cancellation_gives_its_reason_in_a_sentence(db, settings, sim, crew):
    meetup_id = meetup.schedule_meetup(db, spec(to_utc(datetime(2027, 3, 30, 18, 0), "Europe/London", "t")),
                                       SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    actions.cancel_meetup(db, meetup_id, "The speaker is ill", SCHEDULED_AT + timedelta(hours=1))
    sim.tick(SCHEDULED_AT + timedelta(hours=1))
    text = email_parts(sent_bytes(db, f"meetup:{meetup_id}:cancel:person:{crew[ANA]}"))["text/plain"]
    assert ("Report-back meetup, planned for Tue 30 Mar 2027 at 18:00 your time, is cancelled. "
            "The organisers' reason: The speaker is ill.") in text
    assert "\nThe speaker is ill\r\n" not in text


def _received(db) -> list[dict]:
    return [r for r in outbox_store.list_rows(db, limit=1000) if ":received:" in r["key"]]


@pytest.mark.parametrize("text,client,line", [
    ("See you there!", "outlook",
     "Got it: you're coming to Report-back meetup on Wed 10 Feb 2027 at 18:00, your time. See you there."),
    ("I won't be able to attend, sorry.", "gmail",
     "Got it: you can't make Report-back meetup on Wed 10 Feb 2027 at 18:00, your time."),
    ("maybe", "apple", "Got it: you might come to Report-back meetup on Wed 10 Feb 2027 at 18:00, your time."),
])
def test_an_answer_in_words_gets_one_short_line_back(db, settings, invited, text, client, line):
    raw = compose_reply(invitation(db, CAROL), CAROL, "Carol Cruz", text, client, ARRIVES)
    run_inbox(db, settings, raw)
    (row,) = _received(db)
    assert row["to_addr"] == CAROL
    body = email_parts(outbox_store.get_row(db, row["id"])["data"])["text/plain"]
    assert line in body and "Hi Carol" not in body


def test_a_calendar_answer_gets_no_line_back(db, settings, invited):
    run_inbox(db, settings, sample("apple_decline.eml"))
    assert answer_of(db, invited, CAROL)["answer"] == "declined"
    assert _received(db) == []


def test_answers_to_the_old_time_stay_visible_after_a_move(home, db, settings, sim, crew):
    meetup_id = meetup.schedule_meetup(db, spec(to_utc(datetime(2027, 3, 30, 18, 0), "Europe/London", "t")),
                                       SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    sim.reply(ANA, f"meetup:{meetup_id}:seq:0", "accept", SCHEDULED_AT, "See you there!")
    actions.move_meetup(db, meetup_id, to_utc(datetime(2027, 4, 1, 18, 0), "Europe/London", "t"), None,
                        SCHEDULED_AT + timedelta(hours=1))
    shown = CliRunner().invoke(main, ["--home", str(home), "meetup", "show", str(meetup_id)]).output
    (line,) = [n for n, text in enumerate(shown.splitlines()) if ANA in text]
    assert "needs-action" in shown.splitlines()[line]
    assert "accepted" in shown.splitlines()[line + 1] and "v0 (answering the old time)" in shown.splitlines()[line + 1]
