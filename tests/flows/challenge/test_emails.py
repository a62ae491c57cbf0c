"""Every challenge email renders with the real templates on the base layout, text and HTML."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from mailer.flows.challenge import emails as mail
from mailer.outbound.render import render

NOW = datetime(2027, 1, 10, 9, tzinfo=timezone.utc)
CHALLENGE = {"id": 1, "title": "DevOps 30-day challenge", "domain": "DevOps", "description": "Small **steps**.",
             "start": "2027-01-04", "length": 30, "send_hour": 8, "send_minute": 0, "partners": True}
PERSON = {"id": 7, "email": "sam@corp.example.com", "name": "Sam Carter", "timezone": "America/New_York"}
PARTNER = {"person_id": 8, "name": "Aiko Tanaka", "timezone": "Asia/Tokyo", "status": "active"}
DAY = {"day": 8, "title": "Put one more thing under version control", "activity": "Look for **config**.\n\n- a\n- b"}
ROWS = [{"day": 1, "date": "2027-01-04", "date_label": "Mon 4 Jan", "title": "Map", "text": "Seven <steps>.",
         "shareable": False}]

PLANS = {
    "announcement": mail.announcement(CHALLENGE, PERSON, False, NOW),
    "day": mail.day_email(CHALLENGE, DAY, PERSON, mail.partner_line(8, [PARTNER], {8: {7}}, False),
                          (1, "Seven stages.\nTwo gates."), 3),
    "nudge": mail.nudge(CHALLENGE, PERSON, 8, NOW, 0),
    "summary": mail.summary(CHALLENGE, PERSON, ROWS),
    "couldnt_read": mail.couldnt_read(CHALLENGE, PERSON, 3, date(2027, 1, 10), "Re: Day 3", "<m@x>"),
    "join_help": mail.join_help(CHALLENGE, PERSON, date(2027, 1, 10), "Re: hi", None),
    "status": mail.status_change(CHALLENGE, PERSON, "paused", NOW, None, "Re: Day 3", None),
}


def rendered(plan):
    context = {**plan.context, "site_name": "Community of Practice", "subject": plan.subject,
               "recipient": {"name": "Sam Carter", "email": PERSON["email"]}, "reply_ref": "abcdefghij",
               "recurring": plan.recurring}
    return render(plan.template, context)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_renders(name):
    text, html = rendered(PLANS[name])
    assert text.startswith("Hi Sam,") and ">Hi Sam,</p>" in html


def test_day_email_holds_activity_partner_memory_and_how_to_stop():
    plan = PLANS["day"]
    text, html = rendered(plan)
    assert plan.subject == "Day 8 of 30: Put one more thing under version control"
    assert "Look for config." in text and "<strong>config</strong>" in html
    assert "Aiko journaled yesterday." in text
    assert "On day 1 (Mon 4 Jan) you wrote:\n> Seven stages.\n> Two gates." in text
    assert 'Reply "pause"' in text and 'Reply "stop" to leave the challenge.' in text


def test_summary_escapes_the_journal_in_html():
    text, html = rendered(PLANS["summary"])
    assert "Seven <steps>." in text and "Seven &lt;steps&gt;." in html
    assert "Days journaled: 1 of 30" in text
