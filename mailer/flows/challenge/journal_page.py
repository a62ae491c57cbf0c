"""A journal as one self-contained HTML page: the text, and the photos embedded in it.

For ``journal export --format html`` and the end-of-challenge summary. Only images are
embedded (as ``data:`` URIs, so the page needs nothing else); other files are listed by name
and size. Nothing a file says is rendered: an attached HTML or SVG file is never inlined.
"""
from __future__ import annotations

import base64
from datetime import date
from typing import Any

from mailer.flows.challenge.journal import file_size, heading
from mailer.locale import SOURCE
from mailer.locale.text import Localized
from mailer.outbound import formats
from mailer.outbound.render import render_page

EMBEDDED = ("image/jpeg", "image/png", "image/gif", "image/webp")


class Page(Localized):
    """The journal page, rendered in English as itself and again in each reader's language."""

    __slots__ = ("context",)

    def __new__(cls, context: dict[str, Any]) -> "Page":
        made = super().__new__(cls, _render(context, SOURCE))
        made.context = context
        return made

    def localize(self, language: str) -> str:
        return str.__str__(self) if language == SOURCE else _render(self.context, language)

    def __reduce__(self) -> tuple:
        return Page, (self.context,)


def _render(context: dict[str, Any], language: str) -> str:
    return render_page("challenge/journal_page.html.j2", {**context, "language": language}, language)


def page(challenge: dict, author: str, rows: list[dict[str, Any]]) -> Page:
    """The HTML page of ``author``'s journal of ``challenge`` (rows from ``journal_rows`` with
    file data), said in each reader's language (its English is the page as a string)."""
    shown = [{**row, "when": formats.date(date.fromisoformat(row["date"])), "files": [_shown(f) for f in row.get("files", [])]} for row in rows]
    return Page({"title": heading(challenge, author), "rows": shown})


def _shown(item: dict) -> dict[str, Any]:
    embed = item.get("data") if item["kept"] and item["mime_type"] in EMBEDDED else None
    src = f"data:{item['mime_type']};base64,{base64.b64encode(embed).decode('ascii')}" if embed else None
    return {"filename": item["filename"], "size": file_size(item["size"]), "src": src}


def data_size(rows: list[dict[str, Any]]) -> int:
    """Bytes of file data the rows carry (to keep an attachment within its budget)."""
    return sum(len(f.get("data") or b"") for row in rows for f in row.get("files", []))
