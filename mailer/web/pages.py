"""Rendering the web pages: one Jinja environment over ``templates/`` (autoescaped, whatever the
file's extension: ours end in ``.html.j2``, which Jinja's default would not escape), a shared
layout, and the one "not found" page every unknown, forged or expired link gets."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Pages never go in a search index or leak their URL (a signed link) to another site.
HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Cache-Control": "no-store"}

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True))


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``templates/<name>`` with ``context`` (and the site's name) as HTML."""
    ctx = request.app.state.ctx
    context.setdefault("site_name", ctx.settings.mailer_site_name)
    return templates.TemplateResponse(request, name, context, status_code=status, headers=HEADERS)


def not_found(request: Request, exc: Exception | None = None) -> HTMLResponse:
    """The same 404 for a missing page and for a link that does not verify."""
    return render(request, "web/not_found.html.j2", status=404)
