"""The meetup's emails as PlannedEmails: keys, subjects, templates, context and calendar data.

Each builder is pure. Times in the text are the invitee's own local time and zone; the calendar
data is UTC (``outbound.invite``). Keys — M meetup id, N its SEQUENCE, P person id:

    meetup:M:invite:seq:N:person:P     invitation or update (METHOD:REQUEST, SEQUENCE N)
    meetup:M:cancel:person:P           cancellation (METHOD:CANCEL), once
    meetup:M:reminder:seq:N:person:P   the reminder 24 hours before
    meetup:M:question:person:P:date:D  "are you coming?" after an unclear reply, once a local day
    meetup:M:aftercancel:person:P:date:D "it was cancelled; your answer is kept", once a local day
    meetup:M:highlight:person:P        after the meetup, to those who came: one highlight to share
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from mailer.flows.base import PlannedEmail
from mailer.flows.challenge import timing
from mailer.locale import SOURCE, language_for
from mailer.locale.text import Joined, _
from mailer.outbound import formats, invite, markdown
from mailer.outbound.render import environment
from mailer.transports.base import Meeting

DEFAULT_ORGANIZER = ("cop@example.test", "Community of Practice")


def organizer(settings: object) -> invite.Party:
    """Our mailbox as ORGANIZER: calendars send their replies there (notes/calendar-invites.md)."""
    return invite.Party(getattr(settings, "mailer_address", DEFAULT_ORGANIZER[0]),
                        getattr(settings, "mailer_site_name", DEFAULT_ORGANIZER[1]))


def language_of(person: dict, settings: object) -> str:
    """The language the person reads (their own, else the community's), for the calendar's fixed text."""
    return language_for(person, getattr(settings, "mailer_language", SOURCE))


def event_info(meetup: dict, sequence: int | None = None) -> invite.EventInfo:
    """The calendar view of a meetup row."""
    return invite.EventInfo(uid=meetup["uid"], sequence=meetup["sequence"] if sequence is None else sequence,
                            title=meetup["title"], start=meetup["start"],
                            duration_minutes=meetup["duration_minutes"], location=meetup["location"],
                            online_url=meetup["online_url"],
                            description=markdown.to_text(meetup["description"]))


def when(meetup: dict, tz: str) -> dict[str, str]:
    """The meetup's time as the person reads it, in their zone (and the organiser's, if different).

    "when" always gives the length ("…, 18:00–20:00 (2 hours)"); "zone" names the abbreviation
    only when one label fits both ends (across a clock change each end has its own)."""
    return dict(_when(meetup["start"], meetup["end"], meetup["duration_minutes"], meetup["timezone"], tz))


@lru_cache(maxsize=256)
def _when(begins: datetime, ends: datetime, minutes: int, home_tz: str, tz: str) -> dict[str, str]:
    """``when`` of a meetup's times, made once per meetup version and zone: the same values (each
    said once per language, ``locale.text.localize``) for everyone in the zone (issue 25).
    Equal instants in other zones are equal keys, and give the same text: every time is
    converted to the zone it is shown in first."""
    try:
        timing.zone(tz)
    except ValueError:  # a person row with a broken zone still gets the meetup's own time
        tz = home_tz
    start, end = begins.astimezone(timing.zone(tz)), ends.astimezone(timing.zone(tz))
    label = _("%(range)s (%(length)s)", range=formats.time_range(start, end, tz),
              length=formats.duration(minutes))
    home = begins.astimezone(timing.zone(home_tz))
    also = "" if home_tz == tz or home.utcoffset() == start.utcoffset() else \
        _("%(time)s in %(city)s", time=formats.time(home), city=timing.city(home_tz))
    one_label = start.utcoffset() == end.utcoffset() and tz != "UTC"
    zone = Joined(", ", (tz, formats.zone_label(start))) if one_label else tz
    return {"when": label, "zone": zone, "also": also, "short": Joined(" ", (formats.day(start), formats.time(start))),
            "on": _("%(date)s at %(time)s", date=formats.date(start), time=formats.time(start))}


def moved_from(meetup: dict, tz: str) -> str | None:
    """The time the meetup had before its last move, as ``tz`` reads it; None if it never moved."""
    if meetup.get("moved_from_start") is None:
        return None
    minutes = meetup["moved_from_minutes"]
    before = {**meetup, "start": meetup["moved_from_start"], "duration_minutes": minutes,
              "end": meetup["moved_from_start"] + timedelta(minutes=minutes)}
    return when(before, tz)["when"]


def _base(meetup: dict, person: dict) -> dict[str, Any]:
    return {"title": meetup["title"], "location": meetup["location"], "online_url": meetup["online_url"],
            "description": meetup["description"], **when(meetup, person["timezone"])}


def _headers(meetup: dict) -> tuple[tuple[str, str], ...]:
    return (("X-Cop-Meetup", str(meetup["id"])),)


def invitation(meetup: dict, person: dict, speakers: list[str], update: bool, settings: object,
               now: datetime) -> PlannedEmail:
    """The invitation (or, for someone who had an earlier version, the update) with its REQUEST."""
    calendar = invite.request(event_info(meetup), organizer(settings),
                              invite.Party(person["email"], person["name"]), now, language_of(person, settings))
    context = {**_base(meetup, person), "update": update, "speakers": speakers, "_calendar": ("REQUEST", calendar),
               "was": moved_from(meetup, person["timezone"]) if update else None}
    label = context["short"]
    subject = _("Updated: %(title)s, now %(when)s", title=meetup["title"], when=label) if update else \
        _("Invitation: %(title)s, %(when)s", title=meetup["title"], when=label)
    return PlannedEmail(key=f"meetup:{meetup['id']}:invite:seq:{meetup['sequence']}:person:{person['id']}",
                        to=person["email"], subject=subject, template="meetup/invite", context=context,
                        reply_purpose="meetup", reply_ref=f"meetup:{meetup['id']}:seq:{meetup['sequence']}",
                        headers=_headers(meetup))


def native_meeting(meetup: dict, attendees: tuple[str, ...], speakers: list[str],
                   language: str = SOURCE) -> Meeting:
    """The meetup as a native calendar event (Exchange or Graph mails it to ``attendees``).

    Outlook shows the body as the event's notes; times go in UTC and each attendee's calendar
    shows them in their own zone, so the body names no time.
    """
    body = environment(language=language).get_template("meetup/native_body.html.j2").render(
        description=meetup["description"], speakers=speakers, online_url=meetup["online_url"])
    return Meeting(subject=meetup["title"], start=meetup["start"], end=meetup["end"], attendees=attendees,
                   location=invite.location(event_info(meetup)), body_html=body, uid=meetup["uid"])


def cancellation(meetup: dict, person: dict, settings: object, now: datetime) -> PlannedEmail:
    """The cancellation (METHOD:CANCEL, STATUS:CANCELLED) that takes it off their calendar."""
    calendar = invite.cancel(event_info(meetup), organizer(settings),
                             invite.Party(person["email"], person["name"]), now, language_of(person, settings))
    context = {**_base(meetup, person), "reason": meetup["cancel_reason"], "_calendar": ("CANCEL", calendar)}
    return PlannedEmail(key=f"meetup:{meetup['id']}:cancel:person:{person['id']}", to=person["email"],
                        subject=_("Cancelled: %(title)s, %(when)s", title=meetup["title"], when=context["short"]),
                        template="meetup/cancel",
                        context=context, headers=_headers(meetup), reply_purpose="meetup",
                        reply_ref=f"meetup:{meetup['id']}")


def reminder(meetup: dict, person: dict) -> PlannedEmail:
    """The one reminder, 24 hours before; replying "can't make it" still counts."""
    context = {**_base(meetup, person), "accepted": person.get("partstat") == "accepted"}
    return PlannedEmail(key=f"meetup:{meetup['id']}:reminder:seq:{meetup['sequence']}:person:{person['id']}",
                        to=person["email"],
                        subject=_("Tomorrow: %(title)s, %(when)s", title=meetup["title"], when=context["short"]),
                        template="meetup/reminder", context=context, reply_purpose="meetup",
                        reply_ref=f"meetup:{meetup['id']}:seq:{meetup['sequence']}", headers=_headers(meetup))


def question(meetup: dict, person: dict, local_day: date, their_subject: str,
             in_reply_to: str | None) -> PlannedEmail:
    """The one short question after a reply we could not read as yes, no or maybe."""
    return PlannedEmail(key=f"meetup:{meetup['id']}:question:person:{person['id']}:date:{local_day.isoformat()}",
                        to=person["email"], subject=_re(their_subject) if their_subject else meetup["title"],
                        template="meetup/question", context=_base(meetup, person), reply_purpose="meetup",
                        reply_ref=f"meetup:{meetup['id']}:seq:{meetup['sequence']}", auto_reply=True,
                        in_reply_to=in_reply_to, headers=_headers(meetup))


RECEIVED_KINDS = {"accepted": "coming", "declined": "not_coming", "tentative": "maybe"}


def received(meetup: dict, person: dict, partstat: str, their_subject: str,
             in_reply_to: str | None) -> PlannedEmail:
    """One short line back to someone who answered in words ("See you there!"): what we recorded.

    Calendar answers get none: the calendar itself shows the person what they answered."""
    reply_key = in_reply_to or partstat
    return PlannedEmail(key=f"meetup:{meetup['id']}:received:seq:{meetup['sequence']}:person:{person['id']}:"
                            f"reply:{reply_key}",
                        to=person["email"], subject=_re(their_subject) if their_subject else meetup["title"],
                        template="meetup/received",
                        context={**_base(meetup, person), "answer": RECEIVED_KINDS[partstat]},
                        reply_purpose="meetup", reply_ref=f"meetup:{meetup['id']}:seq:{meetup['sequence']}",
                        auto_reply=True, in_reply_to=in_reply_to, headers=_headers(meetup))


def cancelled_reply(meetup: dict, person: dict, local_day: date, their_subject: str,
                    in_reply_to: str | None) -> PlannedEmail:
    """To someone who answered in words after the meetup was cancelled: it was, and their answer
    is kept for the organiser (once a local day)."""
    return PlannedEmail(key=f"meetup:{meetup['id']}:aftercancel:person:{person['id']}:date:{local_day.isoformat()}",
                        to=person["email"], subject=_re(their_subject) if their_subject else meetup["title"],
                        template="meetup/cancelled_reply",
                        context={**_base(meetup, person), "reason": meetup["cancel_reason"]},
                        reply_purpose="meetup", reply_ref=f"meetup:{meetup['id']}", auto_reply=True,
                        in_reply_to=in_reply_to, headers=_headers(meetup))


def highlight_ask(meetup: dict, person: dict) -> PlannedEmail:
    """After the meetup, to someone who came: one highlight, which their reply shares with sponsors."""
    return PlannedEmail(key=f"meetup:{meetup['id']}:highlight:person:{person['id']}", to=person["email"],
                        subject=_("%(title)s: one highlight to share?", title=meetup["title"]), template="meetup/highlight",
                        context=_base(meetup, person), reply_purpose="meetup_highlight",
                        reply_ref=f"meetup:{meetup['id']}:highlight", headers=_headers(meetup))


def _re(subject: str) -> str:
    """``Re: …`` once, however many the person's client already put there."""
    return subject if subject.lower().startswith(("re:", "aw:", "sv:")) else f"Re: {subject}"
