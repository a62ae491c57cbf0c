"""The lead's pages under ``/lead``: sign-in, the overview, one page per ritual, and the few
actions safe on a page.

Every page needs a live session (else: the sign-in page); every form carries a CSRF token bound
to the browser's session (or, before sign-in, to a pre-session cookie), and a POST without a
good one changes nothing (403). A sign-in link opened by GET only shows a button: mail
scanners and link previewers fetch links, and must not spend a one-time link.
"""
from __future__ import annotations

from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.errors import MailerError
from mailer.locale import language_for
from mailer.web.lead import access, actions, overview
from mailer.web.pages import not_found, render

SESSION_COOKIE = "cop_lead"
PRE_COOKIE = "cop_lead_pre"
PAGES = ("challenges", "charters", "calls", "meetups", "outbox", "waiting")


def _ctx(request: Request):
    return request.app.state.ctx


def _secure(request: Request) -> bool:
    """Cookies are Secure when the public URL (or this request) is https."""
    return _ctx(request).settings.web_base_url.startswith("https://") or request.url.scheme == "https"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/lead", httponly=True, samesite="lax",
                        secure=_secure(request))


def _lead(request: Request) -> dict | None:
    ctx = _ctx(request)
    return access.session_lead(ctx.db(), ctx.settings, request.cookies.get(SESSION_COOKIE), ctx.now())


def _own(request: Request, lead: dict) -> dict:
    """What a page for ``lead`` is said in: their language, and times in their time zone."""
    return {"language": language_for(lead, _ctx(request).settings.mailer_language), "tz": lead.get("timezone")}


def _anonymous_page(request: Request, name: str, status: int = 200, **context) -> Response:
    """A page before sign-in, its forms' token bound to the pre-session cookie (set if absent)."""
    pre = request.cookies.get(PRE_COOKIE) or access.new_browser_secret()
    response = render(request, f"web/lead/{name}.html.j2", status=status,
                      csrf=access.csrf_token(_ctx(request).signer, pre), **context)
    if request.cookies.get(PRE_COOKIE) != pre:
        _cookie(response, request, PRE_COOKIE, pre, max_age=3600)
    return response


def sign_in_page(request: Request) -> Response:
    """GET /lead/sign-in: the address form (or the overview when signed in already)."""
    if _lead(request):
        return RedirectResponse("/lead", status_code=303)
    return _anonymous_page(request, "sign_in")


def _refused(request: Request) -> Response:
    """A form without a good CSRF token: nothing was done."""
    return render(request, "web/lead/refused.html.j2", status=403)


def ask_for_link(request: Request, form: dict) -> Response:
    """POST /lead/sign-in: a link for a lead's address; the same answer for any address."""
    ctx = _ctx(request)
    if not access.csrf_ok(ctx.signer, request.cookies.get(PRE_COOKIE), form.get("csrf")):
        return _refused(request)
    base = ctx.settings.web_base_url or str(request.base_url).rstrip("/")
    access.request_link(ctx.db(), ctx.settings, ctx.signer, str(form.get("email", "")), base, ctx.now())
    return _anonymous_page(request, "sign_in_sent", minutes=access.LINK_MINUTES)


def link_page(request: Request) -> Response:
    """GET /lead/sign-in/TOKEN: a button that spends the link (GET never does)."""
    ctx = _ctx(request)
    lead = access.link_person(ctx.db(), ctx.settings, ctx.signer, request.path_params["token"])
    if lead is None:
        return not_found(request)
    return _anonymous_page(request, "sign_in_link", **_own(request, lead))


def spend_link(request: Request, form: dict) -> Response:
    """POST /lead/sign-in/TOKEN: start a session and go to the overview; a bad link is a 404."""
    ctx = _ctx(request)
    if not access.csrf_ok(ctx.signer, request.cookies.get(PRE_COOKIE), form.get("csrf")):
        return _refused(request)
    session_id = access.spend_link(ctx.db(), ctx.settings, ctx.signer, request.path_params["token"], ctx.now())
    if session_id is None:
        return not_found(request)
    response = RedirectResponse("/lead", status_code=303)
    _cookie(response, request, SESSION_COOKIE, session_id, max_age=access.SESSION_HOURS * 3600)
    response.delete_cookie(PRE_COOKIE, path="/lead")
    return response


def sign_out(request: Request, form: dict) -> Response:
    """POST /lead/sign-out: the session ends here and now."""
    ctx, session_id = _ctx(request), request.cookies.get(SESSION_COOKIE)
    if _lead(request) is None or not access.csrf_ok(ctx.signer, session_id, form.get("csrf")):
        return _refused(request)
    access.end_session(ctx.db(), session_id, ctx.now())
    response = RedirectResponse("/lead/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/lead")
    return response


def page(request: Request) -> Response:
    """GET /lead and /lead/PAGE: the overview or one ritual's page, for a signed-in lead."""
    lead, name = _lead(request), request.path_params.get("page", "overview")
    if name not in ("overview", *PAGES):
        return not_found(request)
    if lead is None:
        return RedirectResponse("/lead/sign-in", status_code=303)
    ctx = _ctx(request)
    data = overview.overview(ctx.db(), ctx.now(), ctx.settings)
    return render(request, f"web/lead/{name}.html.j2", lead=lead, page=name, data=data, **_own(request, lead),
                  done=actions.DONE.get(request.query_params.get("done", "")),
                  csrf=access.csrf_token(ctx.signer, request.cookies[SESSION_COOKIE]))


def act(request: Request, form: dict) -> Response:
    """POST /lead/ACTION/ID: retry a dead email, close a call, remind approvers now."""
    ctx, session_id = _ctx(request), request.cookies.get(SESSION_COOKIE)
    lead = _lead(request)
    if lead is None or not access.csrf_ok(ctx.signer, session_id, form.get("csrf")):
        return _refused(request)
    action, record = request.path_params["action"], request.path_params["record"]
    if action not in actions.ACTIONS:
        return not_found(request)
    try:
        back, done = actions.ACTIONS[action](ctx.db(), record, ctx.now(), ctx.settings)
    except MailerError as exc:
        return render(request, "web/lead/refused.html.j2", status=409, reason=str(exc), **_own(request, lead))
    return RedirectResponse(f"/lead/{back}?done={done}", status_code=303)


def _with_form(handler: Callable[[Request, dict], Response]):
    """An async endpoint that reads the form, then runs ``handler`` in the thread pool (the
    store is synchronous SQLite, one connection per thread)."""
    async def endpoint(request: Request) -> Response:
        form = dict(await request.form())
        return await run_in_threadpool(handler, request, form)
    return endpoint


def routes() -> list[BaseRoute]:
    """The lead's routes."""
    return [Route("/lead", page), Route("/lead/sign-in", sign_in_page),
            Route("/lead/sign-in", _with_form(ask_for_link), methods=["POST"]),
            Route("/lead/sign-in/{token}", link_page),
            Route("/lead/sign-in/{token}", _with_form(spend_link), methods=["POST"]),
            Route("/lead/sign-out", _with_form(sign_out), methods=["POST"]),
            Route("/lead/{page}", page),
            Route("/lead/{action}/{record:int}", _with_form(act), methods=["POST"])]
