"""`serve`'s application: ``create_app(ctx)`` builds the Starlette app over one home.

Starlette (with uvicorn) was chosen for being small and well kept, with plain ``def`` endpoints
run in a thread pool (our store is synchronous SQLite) and a test client; docs/web.md says more.
Routes: the members' pages (mailer/web/members.py) and the lead's (mailer/web/lead/).
"""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route

from mailer.web import members
from mailer.web.context import WebContext
from mailer.web.lead.routes import routes as lead_routes
from mailer.web.pages import render, not_found


def home_page(request: Request) -> HTMLResponse:
    """The site's root: what this is, and that the pages are reached from links in emails."""
    return render(request, "web/home.html.j2")


def health(request: Request) -> PlainTextResponse:
    """``ok`` when the app answers (for the reverse proxy and the tests)."""
    return PlainTextResponse("ok")


def routes(ctx: WebContext) -> list[BaseRoute]:
    """Every route of the app."""
    return [Route("/", home_page), Route("/health", health), *members.routes(), *lead_routes()]


def create_app(ctx: WebContext) -> Starlette:
    """The web app over ``ctx``'s home; ``request.app.state.ctx`` gives endpoints the context."""
    app = Starlette(routes=routes(ctx), exception_handlers={404: not_found, 405: not_found})
    app.state.ctx = ctx
    return app
