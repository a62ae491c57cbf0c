"""Journals: what a participant wrote, read back to them alone.

Entries belong to their author. Nothing here is ever put in an email to someone else; the
only door out is ``#share`` in an entry, which marks it as one its author agreed to show in
digests or at meetups (``shareable``). Pure functions over entry dicts (day, text,
received_at, shareable) and the challenge's days.
"""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from mailer.flows.challenge import share_tag
from mailer.flows.challenge import timing as ct
from mailer.locale.text import Joined, Text, _, ngettext
from mailer.outbound import formats

SHARE_TAG = share_tag.TAG
MEMORY_EXCERPT = 400
# The longest journal entry kept, in characters (README, "Journals"); longer ones are cut and
# their author told. An entry is mailed back (memories, summary), so it must stay mail-sized.
MAX_ENTRY = 20_000


def is_shareable(text: str) -> bool:
    """Whether the author marked this entry ``#share`` (any case) with a plain tag that
    nothing around it takes back: not negated, asked, quoted, hedged or retracted
    (``share_tag.reading`` says why not)."""
    return share_tag.shares(text)


def clean_entry(text: str) -> str:
    """The entry as kept: the reply's new text, line breaks intact, outer blank lines trimmed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines)


def capped(text: str, limit: int = MAX_ENTRY) -> tuple[str, bool]:
    """The entry cut to at most ``limit`` characters (at a line or word end near the limit,
    marked with an ellipsis), and whether it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit - 2]
    for sep in ("\n", " "):
        at = head.rfind(sep)
        if at > limit - 500:
            head = head[:at]
            break
    return head.rstrip() + " …", True


def by_day(entries: list[dict]) -> dict[int, str]:
    """Day -> that day's journal text; two replies on one day are joined in arrival order."""
    days: dict[int, list[str]] = {}
    for entry in sorted(entries, key=lambda e: (e["day"], e["received_at"], e.get("id", 0))):
        days.setdefault(entry["day"], []).append(entry["text"])
    return {day: "\n\n".join(texts) for day, texts in days.items()}


def longest_streak(days: set[int]) -> int:
    """The longest run of consecutive days journaled."""
    best = run = 0
    previous = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day == previous + 1 else 1
        best, previous = max(best, run), day
    return best


def memory(texts: dict[int, str], day: int) -> tuple[int, str] | None:
    """Sometimes (days 8, 15, 22, 29…) an earlier entry of one's own, from a week or more back.

    The entry from exactly a week before when there is one, else the latest before that.
    """
    if day <= 1 or day % 7 != 1:
        return None
    earlier = [d for d in texts if d <= day - 7]
    if not earlier:
        return None
    chosen = day - 7 if day - 7 in texts else max(earlier)
    return chosen, excerpt(texts[chosen])


def excerpt(text: str, limit: int = MEMORY_EXCERPT) -> str:
    """At most ``limit`` characters, cut at a word and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip() + " …"


def journal_rows(challenge: dict, day_titles: dict[int, str], entries: list[dict],
                 files_by_entry: dict[int, list[dict]] | None = None) -> list[dict[str, Any]]:
    """One row per journaled day: day, date (ISO), date label, title, text, shareable, files."""
    start = date.fromisoformat(challenge["start"])
    shared = {e["day"] for e in entries if e["shareable"]}
    files: dict[int, list[dict]] = {}
    for entry in sorted(entries, key=lambda e: (e["day"], e["received_at"], e.get("id", 0))):
        files.setdefault(entry["day"], []).extend((files_by_entry or {}).get(entry.get("id"), []))
    rows = []
    for day, text in sorted(by_day(entries).items()):
        when = ct.day_date(start, day)
        rows.append({"day": day, "date": when.isoformat(), "date_label": ct.short_date(when),
                     "title": day_titles.get(day, ""), "text": text, "shareable": day in shared,
                     "files": files.get(day, [])})
    return rows


def file_path(item: dict) -> str:
    """Where an exported journal keeps a file, relative to the Markdown: ``files/1a2b3c4d-photo.jpg``."""
    return f"files/{item['sha256'][:8]}-{item['filename']}"


def _files_markdown(items: list[dict]) -> list[Any]:
    lines: list[Any] = []
    for item in items:
        if item["kept"] and item["mime_type"].startswith("image/"):
            lines.append(f"![{item['filename']}]({file_path(item)})")
        elif item["kept"]:
            lines.append(Joined("", [f"- [{item['filename']}]({file_path(item)}) (", file_size(item["size"]), ")"]))
        else:
            kept = _("%(size)s; kept as a name only", size=file_size(item["size"]))
            lines.append(Joined("", [f"- {item['filename']} (", kept, ")"]))
    return lines + [""] if lines else []


def file_size(size: int) -> Text:
    """A file's size in bytes, as the reader writes numbers: "14,680,064 bytes"."""
    return ngettext("%(num)s byte", "%(num)s bytes", size, num=formats.number(size))


def heading(challenge: dict, author: str) -> Text:
    """A journal's title: "DevOps in 30 days: journal of Anna" (the title as the challenge gives it)."""
    return _("%(title)s: journal of %(author)s", title=challenge["title"], author=author)


def day_heading(row: dict[str, Any]) -> Joined:
    """A journaled day's heading: "Day 3 · Wed 6 Jan 2027 · Count your deployments"."""
    title = [" · ", row["title"]] if row["title"] else []
    return Joined("", [_("Day %(day)s", day=row["day"]), " · ", formats.date(date.fromisoformat(row["date"])), *title])


def journal_markdown(challenge: dict, author: str, rows: list[dict[str, Any]]) -> Joined:
    """A journal as a Markdown document (the summary's attachment, ``journal export``), said
    in each reader's language (``locale.text``: its English is the document as a string)."""
    out: list[Any] = [Joined("", ["# ", heading(challenge, author)]), ""]
    if not rows:
        out += [_("(no entries)"), ""]
    for row in rows:
        out += [Joined("", ["## ", day_heading(row)]), "", row["text"], ""]
        out += _files_markdown(row.get("files", []))
    return Joined("\n", out)


def journal_json(challenge: dict, author: dict, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A journal as plain data for ``journal export --format json``."""
    return {"challenge": {"id": challenge["id"], "title": challenge["title"], "start": challenge["start"],
                          "length": challenge["length"]},
            "author": {"email": author["email"], "name": author["name"]},
            "days_journaled": len(rows), "longest_streak": longest_streak({r["day"] for r in rows}),
            "entries": [{**row, "files": [_file_json(f) for f in row.get("files", [])]} for row in rows]}


def _file_json(item: dict) -> dict[str, Any]:
    return {"filename": item["filename"], "mime_type": item["mime_type"], "size": item["size"],
            "sha256": item["sha256"], "kept": item["kept"], "path": file_path(item) if item["kept"] else None}


def dumps(data: Any) -> str:
    """JSON text, readable and stable."""
    return json.dumps(data, indent=2, ensure_ascii=False)

