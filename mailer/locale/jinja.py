"""Jinja2's i18n extension bound to one language: ``{% trans %}``, ``_()`` and ``ngettext()``
in templates say the language's catalog, and every ``{{ value }}`` that is ``Localized``
(a ``Text`` from code, a date from ``outbound.formats``) is said in that language too.

Gettext is "newstyle" (Jinja's docs, i18n extension): ``_("Hi %(name)s", name=n)`` formats
and escapes in the template, and ``%`` in a ``{% trans %}`` block's text is written ``%%``
in its message id. The variables of a message are localized before they are put in.
"""
from __future__ import annotations

from typing import Any

import jinja2
import jinja2.bccache
from jinja2.utils import pass_context
from markupsafe import Markup

from mailer.locale import translations
from mailer.locale.text import _, localize

EXTENSIONS = ["jinja2.ext.i18n"]


class SharedCode(jinja2.BytecodeCache):
    """Compiled templates kept in memory and shared by every language's environment: their
    code is the same (the language is in the globals, filters and ``finalize``), so each
    template is compiled once per process, not once per language."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


SHARED_CODE = SharedCode()


def finalizer(language: str):
    """The ``finalize`` of ``language``'s environment: a ``Localized`` value said in it."""
    return lambda value: localize(value, language)


def install(env: jinja2.Environment, language: str) -> None:
    """Give ``env`` (made with ``EXTENSIONS``) ``language``'s gettext and ngettext."""
    tr = translations(language)

    @pass_context
    def gettext(context: Any, message: str, **variables: Any) -> str:
        return _fill(context, tr.gettext(message), variables, language)

    @pass_context
    def pgettext(context: Any, msgctxt: str, message: str, **variables: Any) -> str:
        return _fill(context, tr.pgettext(msgctxt, message), variables, language)

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _fill(context, tr.ngettext(singular, plural, num), variables, language)

    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext, pgettext=pgettext, markup=Markup,
                       greeting=lambda recipient: localize(greeting(recipient["name"]), language))


def greeting(name: str) -> str:
    """An email's first line, by the first word of the recipient's name: "Hi Anna,"
    ("Hi there," without a name). Templates write ``{{ greeting(recipient) }}``."""
    first = (name or "").split()
    return _("Hi %(name)s,", name=first[0]) if first else _("Hi there,")


def _fill(context: Any, said: str, variables: dict[str, Any], language: str) -> str:
    # As jinja2.ext's newstyle gettext: always a format string, escaped when autoescaping.
    if context.eval_ctx.autoescape:
        said = Markup(said)
    return said % {k: localize(v, language) for k, v in variables.items()}
