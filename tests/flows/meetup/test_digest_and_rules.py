"""What sponsors read about meetups, and the pure rules for answers."""
from __future__ import annotations

from datetime import datetime, timedelta

from mailer.flows import meetup, registry
from mailer.flows.meetup import actions, rsvp
from mailer.store import meetups as store
from tests.flows.meetup.conftest import SCHEDULED_AT, UTC, spec

START = datetime(2027, 3, 30, 17, 0, tzinfo=UTC)
T = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)


def test_meetups_feed_the_sponsor_digest(db, crew, sim):
    assert meetup in registry.DIGEST_SOURCES
    mid = meetup.schedule_meetup(db, spec(START), SCHEDULED_AT)
    other = meetup.schedule_meetup(db, spec(START, title="Other", sponsors=["else@corp.example.com"]),
                                   SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    sim.reply("ana@corp.example.com", f"meetup:{mid}:seq:0", "accept", SCHEDULED_AT, "yes")
    sim.reply("bob@corp.example.com", f"meetup:{mid}:seq:0", "decline", SCHEDULED_AT, "no")
    week = (SCHEDULED_AT, SCHEDULED_AT + timedelta(days=7))
    (item,) = meetup.digest_items(db, "Sponsor@corp.example.com", *week)
    assert item.ref == f"meetup:{mid}" and item.status.startswith("upcoming: Tue 30 Mar 2027 at 18:00 London")
    assert item.facts == ("1 accepted, 1 declined, 0 maybe, 1 not answered yet (of 3 invited)",)
    assert {i.ref for i in meetup.digest_items(db, None, *week)} == {f"meetup:{mid}", f"meetup:{other}"}
    assert meetup.sponsor_emails(db, SCHEDULED_AT) == {"sponsor@corp.example.com", "else@corp.example.com"}

    actions.record_attendance(db, mid, ["ana@corp.example.com", "chen@corp.example.com"], START + timedelta(hours=2))
    sim.run(START + timedelta(hours=2), START + timedelta(hours=3))
    sim.reply("ana@corp.example.com", f"meetup:{mid}:highlight", "journal", START + timedelta(hours=4),
              "We cut deploy time in half.", purpose="meetup_highlight")
    after = (START - timedelta(days=1), START + timedelta(days=6))
    (item,) = meetup.digest_items(db, "sponsor@corp.example.com", *after)
    assert item.facts == ("2 came (1 had accepted, 3 invited)",)
    assert item.highlights == (("Ana Costa", "We cut deploy time in half."),)


def test_a_cancelled_meetup_says_so_in_the_period_it_was_cancelled(db, crew):
    mid = meetup.schedule_meetup(db, spec(START), SCHEDULED_AT)
    actions.cancel_meetup(db, mid, "Room flooded", SCHEDULED_AT + timedelta(days=1))
    (item,) = meetup.digest_items(db, None, SCHEDULED_AT, SCHEDULED_AT + timedelta(days=7))
    assert item.status == "cancelled" and item.changed == ("Cancelled: Room flooded.",)


def test_text_answers_take_the_version_of_the_invitation_they_reply_to():
    answer = rsvp.read_answer("accept", None, 0, 2, T, "See you there!")
    assert (answer.partstat, answer.version, answer.kind) == ("accepted", 0, "text")
    assert rsvp.is_older(answer, 2)
    assert rsvp.read_answer("unclear", None, 2, 2, T) is None


def test_calendar_answers_take_their_sequence_and_dtstamp():
    reading = {"sequence": 5, "dtstamp": "2027-01-05T09:00:00+00:00", "comment": "late"}
    answer = rsvp.read_answer("decline", reading, None, 3, T)
    assert (answer.version, answer.stamp, answer.comment) == (3, datetime(2027, 1, 5, 9, tzinfo=UTC), "late")


def test_outranks_newer_version_then_latest_stamp():
    a = rsvp.Answer("accepted", 1, T, "calendar")
    assert rsvp.outranks(a, None, None)
    assert rsvp.outranks(a, 0, T + timedelta(days=1))
    assert not rsvp.outranks(a, 2, T - timedelta(days=1))
    assert rsvp.outranks(a, 1, T - timedelta(seconds=1)) and not rsvp.outranks(a, 1, T + timedelta(seconds=1))


def test_the_answering_invitee_is_never_invented():
    people = {"ana@x.example": {"id": 1}, "ana.alias@gmail.example": {"id": 1}, "eve@x.example": {"id": 5}}
    resolve = people.get
    assert rsvp.answering_invitee(["MAILTO:Ana.Alias@gmail.example"], resolve, {1}) == ({"id": 1}, "ana.alias@gmail.example")
    assert rsvp.answering_invitee([None, "eve@x.example", "ana@x.example"], resolve, {1})[0] == {"id": 1}
    assert rsvp.answering_invitee(["eve@x.example", "zed@y.example"], resolve, {1}) == (None, None)


def test_a_move_keeps_the_answers_history(db, crew, sim):
    mid = meetup.schedule_meetup(db, spec(START), SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    sim.reply("ana@corp.example.com", f"meetup:{mid}:seq:0", "accept", SCHEDULED_AT, "yes")
    actions.move_meetup(db, mid, START + timedelta(hours=1), None, SCHEDULED_AT + timedelta(hours=1))
    assert [(a["partstat"], a["version"]) for a in store.answers(db, mid)] == [("accepted", 0)]


def test_a_highlight_photo_reaches_the_sponsor_digest_as_a_thumbnail(db, crew, sim):
    import io
    import random
    from dataclasses import replace

    from PIL import Image

    from mailer.inbound.attachments import InboundFile
    from mailer.outbound.thumbnail import thumbnail
    from tests.flows.meetup.conftest import routed

    rng = random.Random(5)
    out = io.BytesIO()
    Image.frombytes("RGB", (320, 240), bytes(rng.getrandbits(8) for _ in range(320 * 240 * 3))).save(out, "JPEG")
    board = out.getvalue()
    mid = meetup.schedule_meetup(db, spec(START), SCHEDULED_AT)
    actions.record_attendance(db, mid, ["ana@corp.example.com"], START + timedelta(hours=2))
    ana = next(iter(db.query("SELECT * FROM people WHERE email = 'ana@corp.example.com'")))
    reply = routed(ana, f"meetup:{mid}:highlight", "", "empty", START + timedelta(hours=4), purpose="meetup_highlight")
    photo = InboundFile("IMG_0107.JPG", "image/jpeg", board, inline=False)
    meetup.handle_reply(db, replace(reply, message=replace(reply.message, files=[photo])), START, None)
    (item,) = meetup.digest_items(db, "sponsor@corp.example.com", START - timedelta(days=1), START + timedelta(days=6))
    assert item.photos == (("Ana Costa", thumbnail(board)),)  # a photo alone is a highlight too
