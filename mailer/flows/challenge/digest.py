"""What a 30-day challenge tells its sponsors in a digest: counts, a chart, shared highlights.

Only counts leave a journal, and the text of entries their authors marked ``#share``: nothing
else a participant wrote is ever read here.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlite_utils import Database

from mailer.flows import reply_files
from mailer.flows.base import DigestItem
from mailer.flows.challenge.journal import SHARE_TAG, is_shareable
from mailer.locale.text import _, ngettext
from mailer.outbound import formats
from mailer.store import challenges as store

HIGHLIGHTS = 3
HIGHLIGHT_CHARS = 300
STREAK = 3
STEADY_DAYS = 5
KEEP_AFTER_END = timedelta(days=14)  # sponsors hear of a finished challenge for two more weeks


def digest_items(db: Database, email: str | None, since: datetime, until: datetime) -> list[DigestItem]:
    """The challenges ``email`` sponsors (all of them when ``email`` is None), as of ``until``."""
    wanted = email.strip().lower() if email else None
    return [_item(db, c, since, until) for c in store.list_challenges(db)
            if wanted is None or wanted in {s.lower() for s in c["sponsors"]}]


def sponsor_emails(db: Database, now: datetime) -> set[str]:
    """Sponsors of challenges that are running, upcoming or finished less than two weeks ago."""
    found: set[str] = set()
    for c in store.list_challenges(db):
        end = date.fromisoformat(c["start"]) + timedelta(days=c["length"])
        if c["state"] == "active" and now.date() <= end + KEEP_AFTER_END:
            found.update(s.lower() for s in c["sponsors"])
    return found


def current_day(challenge: dict, moment: datetime) -> int:
    """The challenge's day number at ``moment`` (UTC calendar): 0 before it starts."""
    return max((moment.date() - date.fromisoformat(challenge["start"])).days + 1, 0)


def _item(db: Database, c: dict, since: datetime, until: datetime) -> DigestItem:
    people = store.list_participants(db, c["id"])
    days = store.journaled_days(db, c["id"])
    today = min(current_day(c, until - timedelta(seconds=1)), c["length"])
    return DigestItem(kind="challenge", ref=f"challenge:{c['id']}", title=c["title"],
                      status=_status(c, until), changed=tuple(_changed(db, c, people, since, until)),
                      facts=tuple(_facts(people, days, today)), highlights=_highlights(db, c, since, until),
                      chart=_chart(people, days, today), photos=_photos(db, c, since, until))


def _status(c: dict, until: datetime) -> str:
    day = current_day(c, until - timedelta(seconds=1))
    if c["state"] != "active":
        return {"paused": _("paused"), "removed": _("removed")}.get(c["state"], c["state"])
    if day < 1:
        return _("starts %(date)s", date=formats.date(date.fromisoformat(c["start"])))
    return _("day %(day)s of %(length)s", day=day, length=c["length"]) if day <= c["length"] else _("finished")


def _changed(db: Database, c: dict, people: list[dict], since: datetime, until: datetime) -> list[str]:
    entries, writers = store.entries_between(db, c["id"], since, until)
    lines = [ngettext("%(num)s journal entry from %(writers)s", "%(num)s journal entries from %(writers)s", entries,
                      writers=ngettext("%(num)s participant", "%(num)s participants", writers))] if entries else []
    joined = sum(1 for p in people if not p["from_start"] and since <= p["joined_at"] < until)
    stopped = sum(1 for p in people if p["status"] == "stopped" and since <= p["updated_at"] < until)
    if joined:
        lines.append(ngettext("%(num)s member joined", "%(num)s members joined", joined))
    if stopped:
        lines.append(ngettext("%(num)s participant dropped out", "%(num)s participants dropped out", stopped))
    return lines


def _facts(people: list[dict], days: dict[int, set[int]], today: int) -> list[str]:
    total = len(people)
    if not total:
        return [_("no participants yet")]
    states = {s: sum(1 for p in people if p["status"] == s) for s in ("active", "paused", "stopped")}
    facts = [ngettext("%(num)s participant: %(active)s active, %(paused)s paused, %(stopped)s stopped",
                      "%(num)s participants: %(active)s active, %(paused)s paused, %(stopped)s stopped", total,
                      active=states["active"], paused=states["paused"], stopped=states["stopped"]),
             _("%(active)s of %(total)s still going (%(share)s%%)", active=states["active"], total=total,
               share=round(100 * states["active"] / total))]
    if today >= 1:
        need = min(STEADY_DAYS, today)
        steady = sum(1 for p in people if len(days.get(p["person_id"], ())) >= need)
        facts.append(ngettext("%(steady)s of %(total)s participants journaled at least %(num)s day",
                              "%(steady)s of %(total)s participants journaled at least %(num)s days", need,
                              steady=steady, total=total))
        streaking = sum(1 for p in people if streak(days.get(p["person_id"], set()), today) >= STREAK)
        facts.append(_("%(streaking)s of %(total)s on a streak of %(days)s days or more", streaking=streaking,
                       total=total, days=STREAK))
    return facts


def streak(journaled: set[int], today: int) -> int:
    """Days in a row with an entry, ending today or yesterday (today may not be written yet)."""
    day = today if today in journaled else today - 1
    run = 0
    while day in journaled:
        run, day = run + 1, day - 1
    return run


def _chart(people: list[dict], days: dict[int, set[int]], today: int) -> tuple[tuple[str, int, int], ...]:
    if today < 1 or not people:
        return ()
    counts = [0] * (today + 1)
    for person in people:
        for day in days.get(person["person_id"], ()):
            if day <= today:
                counts[day] += 1
    return tuple((f"Day {d}", counts[d], len(people)) for d in range(1, today + 1))


def _shared(db: Database, c: dict, since: datetime, until: datetime) -> list[dict]:
    """Entries marked shareable in the period, read again: one kept by an older, looser reading
    of ``#share`` ("Please don't #share this") is not quoted."""
    return [row for row in store.shareable_between(db, c["id"], since, until, HIGHLIGHTS)
            if is_shareable(row["text"])]


def _highlights(db: Database, c: dict, since: datetime, until: datetime) -> tuple[tuple[str, str], ...]:
    rows = _shared(db, c, since, until)
    return tuple((row["author"], _clip(SHARE_TAG.sub("", row["text"]).strip())) for row in rows
                 if SHARE_TAG.sub("", row["text"]).strip())


def _photos(db: Database, c: dict, since: datetime, until: datetime) -> tuple[tuple[str, bytes], ...]:
    """Thumbnails of photos from entries marked #share in the period (never from any other entry)."""
    rows = _shared(db, c, since, until)
    return reply_files.shared_thumbnails(db, "journal", [(r["id"], r["person_id"], r["author"]) for r in rows])


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= HIGHLIGHT_CHARS else text[:HIGHLIGHT_CHARS - 1].rstrip() + "…"

