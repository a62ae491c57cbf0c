"""A journal as one self-contained HTML page: the text, and the photos embedded in it.

For ``journal export --format html`` and the end-of-challenge summary. Only images are
embedded (as ``data:`` URIs, so the page needs nothing else); other files are listed by name
and size. Nothing a file says is rendered: an attached HTML or SVG file is never inlined.
"""
from __future__ import annotations

import base64
from typing import Any

from mailer.outbound.render import render_page

EMBEDDED = ("image/jpeg", "image/png", "image/gif", "image/webp")


def page(challenge: dict, author: str, rows: list[dict[str, Any]]) -> str:
    """The HTML page of ``author``'s journal of ``challenge`` (rows from ``journal_rows`` with file data)."""
    shown = [{**row, "files": [_shown(f) for f in row.get("files", [])]} for row in rows]
    return render_page("challenge/journal_page.html.j2",
                       {"title": f"{challenge['title']}: journal of {author}", "rows": shown})


def _shown(item: dict) -> dict[str, Any]:
    embed = item.get("data") if item["kept"] and item["mime_type"] in EMBEDDED else None
    src = f"data:{item['mime_type']};base64,{base64.b64encode(embed).decode('ascii')}" if embed else None
    return {"filename": item["filename"], "size": item["size"], "src": src}


def data_size(rows: list[dict[str, Any]]) -> int:
    """Bytes of file data the rows carry (to keep an attachment within its budget)."""
    return sum(len(f.get("data") or b"") for row in rows for f in row.get("files", []))
