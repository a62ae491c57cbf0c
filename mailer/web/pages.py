"""Rendering the web pages: one Jinja environment per language over ``templates/`` (autoescaped,
whatever the file's extension: ours end in ``.html.j2``, which Jinja's default would not
escape), a shared layout, and the one "not found" page every unknown, forged or expired link gets.

Which language a page speaks (docs/web.md, "Languages"): a member's pages the language of the
person their signed link names, the lead's pages the lead's own; a page that names no person
(404, the sign-in form) the browser's ``Accept-Language`` when it names a language we write,
else the community's ``[mailer] language``. A 404 never speaks the language of the person a
link names: a forged link's 404 and a real, expired one's must be the same page.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location
from jinja2.utils import pass_context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mailer.locale import LANGUAGES, language_of
from mailer.locale import jinja as locale_jinja
from mailer.locale.text import _, localize
from mailer.outbound import formats

# The states a page shows (a series, a participant, a charter, a call, a meetup, an answer), in
# the reader's language; a state not listed is shown as stored.
STATES = {"active": _("active"), "paused": _("paused"), "stopped": _("stopped"), "open": _("open"),
          "closed": _("closed"), "pending": _("pending"), "approved": _("approved"), "rejected": _("rejected"),
          "changes_requested": _("changes requested"), "live": _("live"), "scheduled": _("scheduled"),
          "cancelled": _("cancelled"), "expired": _("expired"), "removed": _("removed"), "ended": _("ended"),
          "accepted": _("accepted"), "tentative": _("maybe"), "declined": _("declined"),
          "needs-action": _("no answer")}
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Pages never go in a search index or leak their URL (a signed link) to another site.
HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Cache-Control": "no-store"}


@lru_cache(maxsize=None)
def environment(language: str) -> jinja2.Environment:
    """The pages' environment in ``language`` (one per language per process): gettext from the
    catalogs, ``outbound.formats``' filters, and ``when(moment)`` in the page's time zone."""
    env = jinja2.Environment(extensions=locale_jinja.EXTENSIONS, finalize=locale_jinja.finalizer(language),
                             loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(formats.filters(language))
    locale_jinja.install(env, language)
    env.globals.update(when=pass_context(lambda context, moment: when(moment, language, context.get("tz"))),
                       zone_label=lambda tz: zone_label(tz, language), say=lambda value: localize(value, language),
                       state=lambda value: localize(STATES.get(value, value), language))
    return env


def when(moment: datetime | str | None, language: str, tz: str | None = None) -> str:
    """A stored moment (an aware datetime or ISO text, UTC when naive) as the reader's date and
    time in ``tz`` (UTC when none): "Mo., 4. Jan. 2027, 08:05 (Mitteleuropäische Normalzeit)"."""
    if not moment:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(ZoneInfo(tz or "UTC"))
    return localize(_("%(date)s, %(time)s (%(zone)s)", date=formats.date(local, language=language),
                      time=formats.time(local, language=language),
                      zone=formats.zone_label(local, language=language)), language)


def zone_label(tz: str, language: str) -> str:
    """An IANA zone as the time-zone picker shows it: its place in the reader's language, then
    the IANA name ("Tokio (Japan) · Asia/Tokyo")."""
    if tz == "UTC":
        return tz
    try:
        place = _place(tz, language)
    except (LookupError, ValueError):
        return tz
    return tz if place == tz else f"{place} · {tz}"


@lru_cache(maxsize=None)
def _place(tz: str, language: str) -> str:
    # CLDR names a zone's city and its country ("Los Ángeles (Estados Unidos)", "東京（日本）");
    # Babel's get_timezone_location would add "Time"/"heure :" around them, which a list of
    # places does not need.
    locale = Locale.parse(language)
    city = get_timezone_location(ZoneInfo(tz), locale=locale, return_city=True)
    territory = get_global("zone_territories").get(tz, "")
    country = locale.territories.get(territory, "") if territory.isalpha() else ""  # not "001" (world)
    return f"{city} ({country})" if country and country != city else city


def browser_language(request: Request) -> str:
    """The community's ``[mailer] language``, or the first language of the browser's
    ``Accept-Language`` we write (by its q-values; "de-CH" is German)."""
    wanted = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = params.strip()[2:] if params.strip().startswith("q=") else "1"
        try:
            weight = float(q)
        except ValueError:
            continue
        if tag and weight > 0:
            wanted.append((-weight, i, tag.strip()))
    for _w, _i, tag in sorted(wanted):
        found = language_of(tag)
        if found:
            return found
    return community_language(request)


def community_language(request: Request) -> str:
    """The community's default language (``[mailer] language``)."""
    return language_of(request.app.state.ctx.settings.mailer_language or "") or LANGUAGES[0]


def render(request: Request, name: str, status: int = 200, language: str | None = None,
           **context: Any) -> HTMLResponse:
    """The page ``templates/<name>`` with ``context`` (and the site's name) as HTML, in
    ``language`` (the browser's, else the community's, when the page names no person)."""
    ctx = request.app.state.ctx
    lang = language or browser_language(request)
    context.setdefault("site_name", ctx.settings.mailer_site_name)
    html = environment(lang).get_template(name).render(request=request, lang=lang, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def not_found(request: Request, exc: Exception | None = None) -> HTMLResponse:
    """The same 404 for a missing page and for a link that does not verify, in the browser's
    language (never the language of a person a link names: that would tell who is a member)."""
    return render(request, "web/not_found.html.j2", status=404)
