"""Rendering: jinja2 templates on one base layout, text and HTML, CSS inlined for Outlook.

Templates live in ``templates/<flow>/<message>.txt.j2`` and ``.html.j2``. StrictUndefined makes
a missing variable an error at enqueue time, not a blank in someone's inbox; HTML is
autoescaped. Outlook's Word engine ignores <style> blocks, so styles are inlined (css-inline).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import css_inline
import jinja2

from mailer.errors import MailerError
from mailer.locale import SOURCE, jinja as locale_jinja
from mailer.locale.text import localize
from mailer.outbound import formats, markdown

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SIGNATURE_DELIMITER = "-- "


@lru_cache(maxsize=16)
def environment(root: str = str(TEMPLATES), language: str = SOURCE) -> jinja2.Environment:
    """The jinja2 environment over ``root`` in ``language`` (cached: compiled templates and
    catalogs are reused; one environment per language, mailer.locale.jinja).

    Filters: ``md`` (a lead's Markdown as safe HTML) and ``md_text`` (the same parse as plain
    text), ``md_inline`` and ``md_inline_text`` for one-line fields, and one per kind of value from ``outbound.formats`` (``date``, ``money``, …), in ``language``."""
    env = _environment(root, language)
    env.filters.update(md=_said(markdown.to_html, language), md_text=_said(markdown.to_text, language),
                       md_inline=_said(markdown.inline_html, language),
                       md_inline_text=_said(markdown.inline_text, language), **formats.filters(language))
    locale_jinja.install(env, language)
    return env


def _said(func: Callable[[str], Any], language: str) -> Callable[[Any], Any]:
    """``func`` over a value said in ``language`` first (a sentence kept as parts, ``locale.text``)."""
    return lambda value: func(localize(value, language))


def _environment(root: str, language: str) -> jinja2.Environment:
    return jinja2.Environment(
        extensions=locale_jinja.EXTENSIONS,
        finalize=locale_jinja.finalizer(language),
        bytecode_cache=locale_jinja.SHARED_CODE,
        loader=jinja2.FileSystemLoader(root),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the code: checking their files' times on every render was a
        # stat() per template and layout per email (bench/README.md).
        auto_reload=False,
    )


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def render(template: str, context: dict[str, Any], language: str = SOURCE) -> tuple[str, str]:
    """Render ``template`` (e.g. "challenge/day") in ``language`` to (plain text, HTML with
    inlined CSS); the context's ``language`` is set to it (``<html lang>``)."""
    text, html = render_raw(template, context, language)
    return tidy(text), inline(html)


def render_raw(template: str, context: dict[str, Any], language: str = SOURCE) -> tuple[str, str]:
    """``template``'s text and HTML as jinja2 writes them, before ``render`` tidies the text
    and inlines the CSS (``outbound.shared`` looks at the HTML in between)."""
    env = environment(language=language)
    context = {**context, "language": language}
    try:
        return (env.get_template(f"{template}.txt.j2").render(context),
                env.get_template(f"{template}.html.j2").render(context))
    except jinja2.TemplateError as exc:
        raise MailerError(f"template {template}: {exc}") from exc


def inline(html: str) -> str:
    """``html`` with its <style> rules inlined into style attributes (Outlook reads no others)."""
    return _inliner().inline(html)


def tidy(text: str) -> str:
    """Collapse runs of blank lines the template logic leaves behind; trailing spaces go,
    except in the signature delimiter "-- ", whose space is what makes it one (RFC 3676 4.3:
    clients hide or trim what follows it when quoting)."""
    lines, blank = [], 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line if line == SIGNATURE_DELIMITER else line.rstrip())
    return "\n".join(lines).strip() + "\n"


def render_page(template: str, context: dict[str, Any], language: str = SOURCE) -> str:
    """Render one HTML page that is not an email (autoescaped; no CSS inlining needed), in ``language``."""
    try:
        return environment(language=language).get_template(template).render(context)
    except jinja2.TemplateError as exc:
        raise MailerError(f"template {template}: {exc}") from exc
