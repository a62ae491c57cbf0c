"""The challenge's emails as PlannedEmails: keys, subjects, templates and their context.

Each builder is pure. Contexts hold only what the template shows; what one participant wrote
appears only in emails to that same participant (the day's memory, the summary), and a
partner line says whether someone journaled, never what (DESIGN.md, principle 7).
Keys (the outbox's idempotency) — C challenge id, P person id:

    challenge:C:announce:person:P           the announcement (invitation to join)
    challenge:C:day:N:person:P              day N
    challenge:C:nudge:person:P:since:STAMP  one nudge per stretch of 7 silent days
    challenge:C:summary:person:P            the summary after the last day
    challenge:C:couldnt:person:P:date:D     "we couldn't find your entry", once a local day
    challenge:C:joinhelp:person:P:date:D    "reply join to take part", once a local day
    challenge:C:early:person:P:date:D       "it starts on …; your note is kept for day 1", once a local day
    challenge:C:STATUS:person:P:at:STAMP    confirmation of pause / resume / stop / join
    challenge:C:cut:person:P:day:N:at:STAMP "your entry was too long and was cut"
    challenge:C:files:person:P:msg:ID       "these files were not kept" (too big or too many)

Every email of the series (announcement, days, nudge, summary) is ``recurring``: it carries
List-Unsubscribe (RFC 2369; RFC 8058 one-click with an unsubscribe_url). Every one carries a
reply token: day emails and nudges ``journal`` (challenge:C:day:N),
the announcement and join help ``challenge_join``, confirmations ``challenge_status``
(challenge:C), and "we couldn't read that" the day it answers.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Callable

from mailer.flows.challenge import timing as ct
from mailer.flows.challenge import journal, journal_page
from mailer.inbound import attachments
from mailer.locale.text import Joined, Localized, _, ngettext, pgettext, versions
from mailer.outbound import formats, markdown, safe_text
from mailer.outbound.safe_text import one_line
from mailer.outbound.subject import reply_subject
from mailer.flows.base import Attachment, PlannedEmail


def _base(challenge: dict) -> dict[str, Any]:
    return {"challenge_title": said(challenge, "title", one_line), "length": challenge["length"],
            "domain": one_line(challenge["domain"])}


def said(record: dict, key: str, shape: Callable[[str], Any] = str) -> Any:
    """``record[key]`` (a challenge's or a day's title, description, activity) shaped by
    ``shape``, in every language its lead gave it (``locale.text.versions``): each reader
    gets theirs, or the default."""
    text, given = record[key], _translations(record.get("translations")).get(key)
    if type(text) is str and (not given or all(type(v) is str for v in given.values())):
        return _said(text, tuple(given.items()) if given else None, shape)
    return versions(text, given, shape)


@lru_cache(maxsize=128)
def _said(text: str, given: tuple | None, shape: Callable[[str], Any]) -> Any:
    """``said`` of plain texts, made once for every participant (issue 25): the same value,
    so each email says it (and ``outbound.shared`` keys it) once per language."""
    return versions(text, dict(given) if given else None, shape)


@lru_cache(maxsize=4096)
def _parsed(text: str) -> dict:
    return json.loads(text)


def _translations(value: str | dict | None) -> dict:
    # A challenge row's are parsed by the store; a day row's are JSON text, parsed once each.
    if not value:
        return {}
    return value if isinstance(value, dict) else _parsed(value)


def _headers(challenge: dict) -> tuple[tuple[str, str], ...]:
    return (("X-Cop-Challenge", str(challenge["id"])),)


def first_name(name: str) -> str:
    """How we call someone in a sentence: the first word of their name."""
    return safe_text.first_name(name, _("Your partner"))


def announcement(challenge: dict, person: dict, enrolled: bool, now: datetime) -> PlannedEmail:
    """The announcement: "you're in" for participants, "reply join" for everyone else."""
    start = date.fromisoformat(challenge["start"])
    send = ct.own_send(time(challenge["send_hour"], challenge["send_minute"]), person)  # theirs if they chose one
    begun = now >= ct.opens_at(start, 1, send, person["timezone"])
    subject = _subject(said(challenge, "title"), ct.short_date(start), begun, enrolled)
    context = {**_base(challenge), "description": said(challenge, "description", markdown.to_text),
               "description_html": said(challenge, "description", markdown.to_html),
               "start_label": ct.short_date(start), "send_label": formats.time(send), "begun": begun,
               "enrolled": enrolled, "partners": challenge["partners"]}
    return PlannedEmail(key=f"challenge:{challenge['id']}:announce:person:{person['id']}", to=person["email"],
                        subject=subject, template="challenge/announcement", context=context,
                        reply_purpose="challenge_join", reply_ref=f"challenge:{challenge['id']}",
                        recurring=True, headers=_headers(challenge))


def _subject(title: str, starts: str, begun: bool, enrolled: bool) -> str:
    join = pgettext("command:journal", "join")
    if begun:
        return (_("%(title)s is under way: you're in", title=title) if enrolled else
                _('%(title)s is under way: reply "%(join)s" to take part', title=title, join=join))
    return (_("%(title)s starts %(date)s: you're in", title=title, date=starts) if enrolled else
            _('%(title)s starts %(date)s: reply "%(join)s" to take part', title=title, date=starts, join=join))


def partner_line(day: int, partners: list[dict], journaled: dict[int, set[int]], new: bool,
                 since: datetime | None = None) -> str | None:
    """One line on the partners' progress: whether they journaled, never what.

    ``partners`` are participant dicts (person_id, name, timezone, status, updated_at); ``new``
    when the group was formed since this person's previous day email; ``since`` when that
    previous day opened (a partner who paused or came back after it is not nagged about).
    """
    if not partners:
        return None
    if new or day == 1:
        names = formats.listing(tuple(_("%(name)s (%(city)s)", name=one_line(p["name"]) or _("someone"),
                                          city=ct.city(p["timezone"])) for p in partners))
        return ngettext("Meet your accountability partner: %(names)s. Each day you'll see here whether "
                        "they journaled (never what they wrote).",
                        "Meet your accountability partners: %(names)s. Each day you'll see here whether "
                        "they journaled (never what they wrote).", len(partners), names=names)
    return Joined(" ", [_progress(day, p, journaled.get(p["person_id"], set()), since) for p in partners])


def _progress(day: int, partner: dict, days: set[int], since: datetime | None) -> str:
    name = first_name(partner["name"])
    if partner["status"] == "paused":
        return _("%(name)s is taking a break.", name=name)
    if day - 1 in days:
        return _("%(name)s journaled yesterday.", name=name)
    if since is not None and partner.get("updated_at") and partner["updated_at"] > since:
        return _("%(name)s is back from a break.", name=name)  # resumed since yesterday: no "friendly note" yet
    earlier = [d for d in days if d < day]
    if earlier:
        return _("%(name)s last journaled on day %(day)s.", name=name, day=max(earlier))
    return _("%(name)s hasn't journaled yet; a friendly note from you might help.", name=name)


def day_email(challenge: dict, day: dict, person: dict, line: str | None,
              remembered: tuple[int, str] | None, journaled_count: int) -> PlannedEmail:
    """Day N's email: the activity, the partner line, sometimes an earlier entry of one's own."""
    start = date.fromisoformat(challenge["start"])
    n = day["day"]
    memory = None
    if remembered:
        memory = {"day": remembered[0], "date_label": ct.short_date(ct.day_date(start, remembered[0])),
                  "text": remembered[1], "html": markdown.paragraphs_html(remembered[1])}
    context = {**_base(challenge), "day": n, "day_title": said(day, "title", one_line),
               "activity": said(day, "activity", markdown.to_text), "activity_html": said(day, "activity", markdown.to_html),
               "date_label": ct.short_date(ct.day_date(start, n)), "partner_line": line,
               "memory": memory, "journaled_count": journaled_count}
    return PlannedEmail(key=f"challenge:{challenge['id']}:day:{n}:person:{person['id']}", to=person["email"],
                        subject=_("Day %(n)s of %(length)s: %(title)s", n=n, length=challenge["length"],
                                  title=said(day, "title")),
                        template="challenge/day", context=context, reply_purpose="journal",
                        reply_ref=f"challenge:{challenge['id']}:day:{n}", recurring=True,
                        headers=_headers(challenge))


def nudge(challenge: dict, person: dict, day: int, since: datetime, journaled_count: int) -> PlannedEmail:
    """One gentle note after seven days without a word from the participant."""
    context = {**_base(challenge), "day": day, "journaled_count": journaled_count}
    return PlannedEmail(
        key=f"challenge:{challenge['id']}:nudge:person:{person['id']}:since:{since:%Y%m%dT%H%M%S}",
        to=person["email"], subject=_("%(title)s: how is it going?", title=said(challenge, "title")),
        template="challenge/nudge",
        context=context, reply_purpose="journal", reply_ref=f"challenge:{challenge['id']}:day:{day}",
        recurring=True, headers=_headers(challenge))


# The journal page with its photos rides along with the summary up to this size; mail servers
# commonly refuse messages over 25 MB, and base64 adds a third.
SUMMARY_FILES_BUDGET = 15 * 1024 * 1024


def summary(challenge: dict, person: dict, rows: list[dict]) -> PlannedEmail:
    """After the last day: days journaled, longest streak, and the whole journal (also as .md).
    A row's title may be ``said`` (the day's title in every language its lead gave)."""
    shown = [{**row, "title": row["title"] if isinstance(row["title"], Localized) else one_line(row["title"]),
              "html": markdown.paragraphs_html(row["text"])}
             for row in rows]
    context = {**_base(challenge), "days_journaled": len(rows),
               "longest_streak": journal.longest_streak({r["day"] for r in rows}), "entries": shown}
    titled = {**challenge, "title": said(challenge, "title")}  # the journal says it in the reader's language
    journal_md = journal.journal_markdown(titled, one_line(person["name"]), rows)
    slug = "".join(c if c.isalnum() else "-" for c in challenge["title"].lower()).strip("-")
    attached = [Attachment(filename=f"{slug}-journal.md", mime_type="text/markdown",
                           data=journal_md.encode("utf-8"), said=journal_md)]
    photos = journal_page.data_size(rows)
    if photos and photos <= SUMMARY_FILES_BUDGET:
        html = journal_page.page(titled, person["name"], rows)
        attached.append(Attachment(filename=f"{slug}-journal.html", mime_type="text/html",
                                   data=html.encode("utf-8"), said=html))
    context["photos"] = {"bytes_mb": formats.megabytes(photos), "attached": 0 < photos <= SUMMARY_FILES_BUDGET,
                         "too_big": photos > SUMMARY_FILES_BUDGET} if photos else None
    return PlannedEmail(key=f"challenge:{challenge['id']}:summary:person:{person['id']}", to=person["email"],
                        subject=ngettext("%(title)s: your %(num)s day in review", "%(title)s: your %(num)s days in review",
                                         challenge["length"], title=said(challenge, "title")),
                        template="challenge/summary", context=context, attachments=tuple(attached),
                        reply_purpose="challenge_status", reply_ref=f"challenge:{challenge['id']}",
                        recurring=True, headers=_headers(challenge))


def _answer(challenge: dict, person: dict, kind: str, key_tail: str, template: str,
            their_subject: str, in_reply_to: str | None, extra: dict[str, Any],
            purpose: str = "challenge_status", ref: str | None = None) -> PlannedEmail:
    # Every answer says what to reply ("resume", "join", your entry again), so every answer
    # carries a token of its own: the reply must route even when the client drops References.
    subject = reply_subject(their_subject, said(challenge, "title", one_line))
    return PlannedEmail(key=f"challenge:{challenge['id']}:{kind}:person:{person['id']}:{key_tail}",
                        to=person["email"], subject=subject, template=template,
                        context={**_base(challenge), **extra}, auto_reply=True, in_reply_to=in_reply_to,
                        reply_purpose=purpose, reply_ref=ref or f"challenge:{challenge['id']}",
                        headers=_headers(challenge))


def couldnt_read(challenge: dict, person: dict, day: int | None, local_day: date, their_subject: str,
                 in_reply_to: str | None) -> PlannedEmail:
    """The one short answer to an empty or unreadable reply (at most one a local day)."""
    ref = f"challenge:{challenge['id']}:day:{day}" if day else None
    return _answer(challenge, person, "couldnt", f"date:{local_day.isoformat()}", "challenge/couldnt_read",
                   their_subject, in_reply_to, {"day": day}, "journal" if day else "challenge_status", ref)


def kept_early(challenge: dict, person: dict, local_day: date, their_subject: str,
               in_reply_to: str | None) -> PlannedEmail:
    """To a participant who wrote before the challenge began: the note is kept for day 1, and
    when that is (at most one a local day)."""
    starts = ct.short_date(date.fromisoformat(challenge["start"]))
    return _answer(challenge, person, "early", f"date:{local_day.isoformat()}", "challenge/kept_early",
                   their_subject, in_reply_to, {"starts_label": starts}, "journal",
                   f"challenge:{challenge['id']}:day:1")


def join_help(challenge: dict, person: dict, local_day: date, their_subject: str,
              in_reply_to: str | None) -> PlannedEmail:
    """To someone who answered the announcement without joining: how to join."""
    return _answer(challenge, person, "joinhelp", f"date:{local_day.isoformat()}", "challenge/join_help",
                   their_subject, in_reply_to, {}, "challenge_join")


def status_change(challenge: dict, person: dict, change: str, now: datetime, first_day: str | None,
                  their_subject: str, in_reply_to: str | None) -> PlannedEmail:
    """Confirms a pause, resume, stop or join asked for by reply."""
    return _answer(challenge, person, change, f"at:{now:%Y%m%dT%H%M%S}", "challenge/status", their_subject,
                   in_reply_to, {"change": change, "first_day": first_day})


def entry_cut(challenge: dict, person: dict, day: int, now: datetime, their_subject: str,
              in_reply_to: str | None) -> PlannedEmail:
    """To the author of an entry longer than ``journal.MAX_ENTRY``: only its start was kept;
    a reply to this note adds to the same day's entry."""
    note = _answer(challenge, person, "cut", f"day:{day}:at:{now:%Y%m%dT%H%M%S}", "challenge/entry_cut",
                   their_subject, in_reply_to, {"day": day, "limit": formats.number(journal.MAX_ENTRY)})
    return replace(note, reply_purpose="journal", reply_ref=f"challenge:{challenge['id']}:day:{day}")


def files_not_kept(challenge: dict, person: dict, day: int, over: tuple, their_subject: str,
                   in_reply_to: str | None) -> PlannedEmail:
    """One short answer when files of an entry were over the size or number limit."""
    listed = [{"name": f.filename, "size_mb": formats.megabytes(f.size), "reason": reason} for f, reason in over]
    key_tail = f"msg:{in_reply_to or day}"
    return _answer(challenge, person, "files", key_tail, "challenge/files_not_kept", their_subject, in_reply_to,
                   {"day": day, "files": listed, "max_mb": attachments.MAX_FILE_BYTES // 1048576,
                    "max_files": attachments.MAX_FILES})
