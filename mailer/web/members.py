"""The members' pages: one-click unsubscribe (RFC 8058) and preferences, reached by signed links.

- ``GET /u/TOKEN`` shows one button; it never changes anything (link scanners and previewers
  fetch every link in an email).
- ``POST /u/TOKEN`` stops the token's series at once, with no cookie, login or CSRF token (a
  mail provider's POST carries none; RFC 8058 section 3.2), and answers 200 every time, so a
  second POST is as good as the first.
- ``GET /p/TOKEN`` lists the person's series with pause/resume/stop, digests, their time zone;
  ``POST /p/TOKEN`` makes one change and sends the browser back to the page (303).
The signed token is the capability: no one can forge one for another person, and a wrong,
expired or foreign token gets the same 404 as a page that does not exist.
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer import preferences
from mailer.errors import NotFoundError
from mailer.locale import language_for
from mailer.store import people
from mailer.web.context import WebContext
from mailer.web.links import PREFERENCES, UNSUBSCRIBE
from mailer.web.pages import not_found, render
from mailer.web.tokens import Link

ONE_CLICK, PAGE = "one-click", "page"  # how a change was made, as recorded


def _holder(ctx: WebContext, token: str, purpose: str) -> tuple[Link, dict] | None:
    """The verified link and its person, or None (forged, expired, erased: all one answer)."""
    link = ctx.signer.read(token, purpose)
    if link is None:
        return None
    try:
        person = people.get_person(ctx.db(), link.person_id)
    except NotFoundError:
        return None
    return None if person["status"] == "erased" else (link, person)


def _prefs_url(ctx: WebContext, person: dict) -> str:
    return ctx.url(f"/p/{ctx.signer.sign(person['id'], PREFERENCES)}")


def _unsubscribe_view(ctx: WebContext, token: str, stop: bool) -> dict | None:
    """What the unsubscribe page shows (after stopping the series when ``stop``); None: 404."""
    found = _holder(ctx, token, UNSUBSCRIBE)
    if found is None:
        return None
    link, person = found
    db, now = ctx.db(), ctx.now()
    series = preferences.series_of(db, person, link.ref, now, ctx.settings)
    changed = False
    if stop and series is not None:
        changed = preferences.change(db, person, series, "stop", now, ONE_CLICK)
        series = preferences.series_of(db, person, link.ref, now, ctx.settings)
    return {"series": series, "changed": changed, "posted": stop, "prefs_url": _prefs_url(ctx, person),
            "language": _language(ctx, person)}


def _language(ctx: WebContext, person: dict) -> str:
    """The language of a person's own pages: theirs, else the community's."""
    return language_for(person, ctx.settings.mailer_language)


async def unsubscribe_page(request: Request) -> Response:
    """The page behind a List-Unsubscribe link: one button, nothing changed by looking."""
    ctx: WebContext = request.app.state.ctx
    view = await run_in_threadpool(_unsubscribe_view, ctx, request.path_params["token"], False)
    return not_found(request) if view is None else render(request, "web/unsubscribe.html.j2", **view)


async def unsubscribe(request: Request) -> Response:
    """RFC 8058 one-click: stop the series now; 200 whether it was running or already stopped."""
    ctx: WebContext = request.app.state.ctx
    view = await run_in_threadpool(_unsubscribe_view, ctx, request.path_params["token"], True)
    return not_found(request) if view is None else render(request, "web/unsubscribe.html.j2", **view)


def _preferences_view(ctx: WebContext, token: str) -> dict | None:
    found = _holder(ctx, token, PREFERENCES)
    if found is None:
        return None
    person = found[1]
    db, now = ctx.db(), ctx.now()
    return {"person": {"name": person["name"], "timezone": person["timezone"], "send_hour": person["send_hour"]},
            "series": preferences.all_series(db, person, now, ctx.settings), "zones": preferences.zones(),
            "language": _language(ctx, person)}


async def preferences_page(request: Request) -> Response:
    """The person's series, each with what they may change, and their time zone."""
    ctx: WebContext = request.app.state.ctx
    view = await run_in_threadpool(_preferences_view, ctx, request.path_params["token"])
    if view is None:
        return not_found(request)
    return render(request, "web/preferences.html.j2", saved=request.query_params.get("saved"), **view)


def _preferences_change(ctx: WebContext, token: str, form: dict[str, str]) -> tuple[str, str] | None:
    """Apply one change from the preferences form: what to say about it ("" when it could not
    be made: nothing changed) and the person's language; None: 404."""
    found = _holder(ctx, token, PREFERENCES)
    if found is None:
        return None
    person = found[1]
    return _apply(ctx, person, form), _language(ctx, person)


def _apply(ctx: WebContext, person: dict, form: dict[str, str]) -> str:
    """One change from the form; what to say about it, "" when it could not be made."""
    db, now = ctx.db(), ctx.now()
    try:
        if form.get("action") == "timezone":
            preferences.set_timezone(db, person, form.get("timezone", ""), now, PAGE)
            return "timezone"
        if form.get("action") == "send_hour":
            hour = form.get("hour", "")
            preferences.set_send_hour(db, person, int(hour) if hour else None, now, PAGE)
            return "send_hour"
        series = preferences.series_of(db, person, form.get("series", ""), now, ctx.settings)
        if series is None:
            return ""
        preferences.change(db, person, series, form.get("action", ""), now, PAGE)
        return series.ref
    except ValueError:
        return ""


async def preferences_change(request: Request) -> Response:
    """One change from the preferences page, then back to it (303, so a reload posts nothing)."""
    ctx: WebContext = request.app.state.ctx
    form = {k: str(v) for k, v in (await request.form()).items()}
    token = request.path_params["token"]
    outcome = await run_in_threadpool(_preferences_change, ctx, token, form)
    if outcome is None:
        return not_found(request)
    saved, language = outcome
    if not saved:
        return render(request, "web/refused.html.j2", status=400, language=language, back=ctx.url(f"/p/{token}"))
    return RedirectResponse(ctx.url(f"/p/{token}?saved={saved}"), status_code=303)


def routes() -> list[BaseRoute]:
    """The members' routes."""
    return [Route("/u/{token}", unsubscribe_page, methods=["GET"]),
            Route("/u/{token}", unsubscribe, methods=["POST"]),
            Route("/p/{token}", preferences_page, methods=["GET"]),
            Route("/p/{token}", preferences_change, methods=["POST"])]
