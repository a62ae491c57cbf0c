"""Sentences written in code that are said in the recipient's language when the email is built.

A flow plans an email before anyone knows which language it will be rendered in (the outbox
looks the recipient up), so code marks its sentences with ``_`` and ``ngettext`` from here:
each returns a ``Text``, a ``str`` holding the English sentence (so logs, tests and the CLI
read English) that also knows its message id and parameters. ``localize(value, language)``
says it in another language; the outbox does that for the subject, and the templates do it
for every ``{{ value }}`` they print (``mailer.outbound.render``).

Parameters use Python's named %-formatting, like the templates: ``_("Day %(n)s of
%(length)s", n=3, length=30)``. A parameter may itself be ``Localized`` (a date from
``outbound.formats``, another ``Text``): it is said in the same language.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from markupsafe import Markup, escape

from mailer.locale import SOURCE, translations


class Localized(str):
    """A string whose English value is itself and which can say itself in ``language``."""

    # What ``localize`` said in each language, kept on the value: a value shared by a
    # fan-out's emails (a meetup's time in one zone) is said once per language (issue 25);
    # ``_key``: its key in ``outbound.shared``, made once too. A value never changes once made.
    __slots__ = ("_said", "_key")

    def localize(self, language: str) -> str:
        """This value in ``language`` (English: itself)."""
        raise NotImplementedError


class Text(Localized):
    """A gettext message (singular, or with a plural and a count) and its parameters."""

    __slots__ = ("msgid", "plural", "n", "params", "context")

    def __new__(cls, msgid: str, plural: str | None = None, n: int | None = None,
                params: dict[str, Any] | None = None, context: str | None = None) -> "Text":
        params = dict(params or {})
        english = plural if plural is not None and n != 1 else msgid
        made = super().__new__(cls, english % params if params else english)
        made.msgid, made.plural, made.n, made.params, made.context = msgid, plural, n, params, context
        return made

    def localize(self, language: str) -> str:
        if language == SOURCE:
            return str.__str__(self)
        tr = translations(language)
        if self.context is not None:
            said = tr.pgettext(self.context, self.msgid)
        else:
            said = tr.gettext(self.msgid) if self.plural is None else tr.ngettext(self.msgid, self.plural, self.n)
        if not self.params:
            return said
        return said % {k: localize(v, language) for k, v in self.params.items()}

    def __reduce__(self) -> tuple:
        return Text, (self.msgid, self.plural, self.n, self.params, self.context)


class Joined(Localized):
    """Several localized parts with a separator ("Anna journaled yesterday. Ben is on a break.").

    Sentences joined by a space are joined by nothing in Japanese (each ends in "。")."""

    __slots__ = ("sep", "parts")

    def __new__(cls, sep: str, parts: Iterable[Any]) -> "Joined":
        parts = tuple(parts)
        made = super().__new__(cls, sep.join(str(p) for p in parts))
        made.sep, made.parts = sep, parts
        return made

    def localize(self, language: str) -> str:
        sep = "" if language == "ja" and self.sep == " " else self.sep
        return sep.join(localize(p, language) for p in self.parts)

    def __reduce__(self) -> tuple:
        return Joined, (self.sep, self.parts)


class Versions(Localized):
    """What a lead wrote, in the languages they gave: ``versions`` by language, the default
    as itself; a language not given reads the default. HTML versions (``markup``) stay
    ``Markup`` when said, so templates do not escape them."""

    __slots__ = ("versions", "markup")

    def __new__(cls, default: str, versions: dict[str, str], markup: bool = False) -> "Versions":
        made = super().__new__(cls, default)
        made.versions, made.markup = dict(versions), markup
        return made

    def localize(self, language: str) -> str:
        said = self.versions.get(language, str.__str__(self))
        return Markup(said) if self.markup else said

    def __html__(self) -> str:
        return str.__str__(self) if self.markup else str(escape(str.__str__(self)))

    def __reduce__(self) -> tuple:
        return Versions, (str.__str__(self), self.versions, self.markup)


def versions(default: Any, given: dict[str, str] | None, shape: Callable[[str], Any] = str) -> Any:
    """``shape(default)``, or ``Versions`` of it and each given language shaped alike (a
    challenge's title, a day's activity as HTML) when there are translations."""
    shaped = shape(default)
    if not given:
        return shaped
    return Versions(shaped, {lang: shape(text) for lang, text in given.items()}, isinstance(shaped, Markup))


def _(msgid: str, **params: Any) -> Text:
    """Mark ``msgid`` for translation; ``params`` fill its ``%(name)s`` placeholders."""
    return Text(msgid, params=params)


def pgettext(context: str, msgid: str, **params: Any) -> Text:
    """``msgid`` in a context: ``pgettext("command:journal", "pause")`` is a word a reply
    must contain, read by that reader (docs/languages.md)."""
    return Text(msgid, params=params, context=context)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A message with a plural chosen by ``n`` in each language; ``%(num)s`` is ``n``."""
    return Text(singular, plural, n, {"num": n, **params})


def localize(value: Any, language: str) -> Any:
    """``value`` said in ``language`` when it is ``Localized``; anything else as it is.

    A value says the same in a language every time (its parts and the catalogs do not
    change), so what it said is kept on it, one entry per language we write."""
    if not isinstance(value, Localized):
        return value
    try:
        said = value._said
    except AttributeError:
        said = value._said = {}
    found = said.get(language)
    if found is None:
        found = said[language] = value.localize(language)
    return found
