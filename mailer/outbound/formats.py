"""How every email writes a value: one function per kind (dates, times, durations, hours, money, counts).

Each email shows a date as "Wed 20 Jan 2027", never "2027-01-20" beside it; a sum of money as
"4,500 EUR" wherever it appears, a budget change included. Each formatter takes the value and
nothing else about the email. The same functions are the templates' filters (``filters``).

In another language (issue 23) the value is written by Babel from CLDR for the recipient's
locale: "Mi., 20. Jan. 2027", "mer. 20 janv. 2027", "2027年1月20日(水)"; English stays as
above. Called without ``language``, a formatter returns a ``Shown``: the English text that
the recipient's language rewrites when the email is rendered (``mailer.locale.text``).
"""
from __future__ import annotations

import functools
from datetime import date as Date, datetime, time as Time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.lists import format_list

from mailer.locale import SOURCE, translations
from mailer.locale.text import Localized


class Shown(Localized):
    """A value written in English that can be written again in another language."""

    __slots__ = ("func", "args")

    def __new__(cls, text: str, func: Callable[..., str], args: tuple) -> "Shown":
        made = super().__new__(cls, text)
        made.func, made.args = func, args
        return made

    def localize(self, language: str) -> str:
        return str.__str__(self) if language == SOURCE else self.func(*self.args, language=language)

    def __reduce__(self) -> tuple:
        return str, (str.__str__(self),)


def _localizable(func: Callable[..., str]) -> Callable[..., str]:
    """``func(*args, language=…)`` as a formatter: without a language, a ``Shown`` in English.

    Results are remembered per value and language: a day's fan-out writes the same few dates,
    times and cities thousands of times, and CLDR patterns are slow to apply."""
    remembered = functools.lru_cache(maxsize=8192)(func)

    @functools.wraps(func)
    def formatter(*args: Any, language: str | None = None) -> str:
        if _rememberable(args):
            said = remembered(*args, language=language or SOURCE)
        else:
            said = func(*args, language=language or SOURCE)
        return Shown(said, formatter, args) if language is None else said
    return formatter


def _rememberable(args: tuple) -> bool:
    # Plain values only: a Localized one equals its English text, which need not say which
    # value it is in another language; and an aware datetime equals the same instant in any
    # other zone (18:00 in London == 13:00 in New York), whose clock reads differently.
    return all((isinstance(a, (Date, Time)) and getattr(a, "tzinfo", None) is None)
               or isinstance(a, (int, float)) or type(a) is str for a in args)


_locale = functools.lru_cache(maxsize=None)(Locale.parse)


@_localizable
def date(day: Date | datetime, language: str = SOURCE) -> str:
    """A calendar date in full: "Wed 20 Jan 2027"."""
    if language == SOURCE:
        return f"{day:%a} {day.day} {day:%b %Y}"
    return babel_dates.format_skeleton("yMMMEd", day, locale=_locale(language))


@_localizable
def day(day: Date | datetime, language: str = SOURCE) -> str:
    """A date in the coming weeks, where the year goes without saying: "Wed 20 Jan"."""
    if language == SOURCE:
        return f"{day:%a} {day.day} {day:%b}"
    return babel_dates.format_skeleton("MMMEd", day, locale=_locale(language))


@_localizable
def long_date(day: Date | datetime, language: str = SOURCE) -> str:
    """A date with the weekday and month in full: "Wednesday 20 January 2027",
    "mercredi 20 janvier 2027"."""
    if language == SOURCE:
        return f"{day:%A} {day.day} {day:%B %Y}"
    return babel_dates.format_date(day, "full", locale=_locale(language))


@_localizable
def time(moment: datetime | Time, language: str = SOURCE) -> str:
    """A clock time, 24-hour: "18:30" ("8:05" where the locale writes no leading zero)."""
    if language == SOURCE:
        return f"{moment:%H:%M}"
    return babel_dates.format_time(moment, "H:mm" if _short_hour(language) else "HH:mm", locale=_locale(language))


def _short_hour(language: str) -> bool:
    # CLDR's own 24-hour pattern says whether the hour has a leading zero (es, ja: "8:05").
    return _locale(language).time_formats["short"].pattern.startswith("H:")


@_localizable
def period(first: Date, last: Date, language: str = SOURCE) -> str:
    """Two dates as a span: "4 Jan – 11 Jan 2027" (the first year only when it differs)."""
    if language == SOURCE:
        start = f"{first.day} {first:%b}" if first.year == last.year else f"{first.day} {first:%b %Y}"
        return f"{start} – {last.day} {last:%b %Y}"
    return babel_dates.format_interval(first, last, "yMMMd", locale=_locale(language))


@_localizable
def duration(minutes: int, language: str = SOURCE) -> str:
    """A length of time: "45 minutes", "1 hour", "2 hours 30 minutes"."""
    whole, rest = divmod(int(minutes), 60)
    parts = [count(whole, "hour", language=language)] if whole else []
    if rest or not whole:
        parts.append(count(rest, "minute", language=language))
    return ("" if language == "ja" else " ").join(parts)


@_localizable
def hours(value: float, language: str = SOURCE) -> str:
    """A number of hours people give: "48 hours", "2.5 hours", "1 hour" (one decimal at most)."""
    shown = number(round(value, 1), language=language)
    if language == SOURCE:
        return f"{shown} hour" if shown == "1" else f"{shown} hours"
    tr = translations(language)
    return tr.ngettext("%(num)s hour", "%(num)s hours", 1 if shown == "1" else 2) % {"num": shown}


@_localizable
def number(value: float, language: str = SOURCE) -> str:
    """A number with thousands grouped and no useless decimals: "4,500", "2.5" ("4.500" in German)."""
    rounded = round(float(value), 2)
    if language == SOURCE:
        return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.2f}".rstrip("0")
    return babel_numbers.format_decimal(rounded, format="#,##0.##", locale=_locale(language))


@_localizable
def money(amount: float, currency: str, language: str = SOURCE) -> str:
    """A sum with its currency: "4,500 EUR", "99.50 EUR" (cents shown only when there are some);
    in another language as its locale writes money: "4.500 €", "99,50 €"."""
    value = float(amount)
    if language == SOURCE:
        return (f"{value:,.0f} {currency}" if value.is_integer() else f"{value:,.2f} {currency}").strip()
    pattern = _locale(language).currency_formats["standard"].pattern
    whole = value.is_integer()
    return babel_numbers.format_currency(value, currency, format=pattern.replace(".00", "") if whole else pattern,
                                         locale=_locale(language), currency_digits=not whole)


def _nouns(n: int) -> dict[tuple[str, str], Any]:
    # The nouns ``count`` is given in templates and code, each with its plural forms in the
    # catalog (base domain); a noun not here is written in English (the render test finds it).
    from mailer.locale.text import ngettext
    return {("hour", "hours"): ngettext("%(num)s hour", "%(num)s hours", n),
            ("minute", "minutes"): ngettext("%(num)s minute", "%(num)s minutes", n),
            ("day", "days"): ngettext("%(num)s day", "%(num)s days", n),
            ("week", "weeks"): ngettext("%(num)s week", "%(num)s weeks", n),
            ("person", "people"): ngettext("%(num)s person", "%(num)s people", n),
            ("approval", "approvals"): ngettext("%(num)s approval", "%(num)s approvals", n),
            ("update", "updates"): ngettext("%(num)s update", "%(num)s updates", n)}


@_localizable
def count(n: int, noun: str, plural: str | None = None, language: str = SOURCE) -> str:
    """A count with its noun: "1 person", "3 people", "0 updates" ("3 Personen")."""
    plural = plural or noun + "s"
    if language == SOURCE:
        return f"{n:,} {noun if n == 1 else plural}"
    known = _nouns(n).get((noun, plural))
    if known is None:
        return f"{number(n, language=language)} {noun if n == 1 else plural}"
    tr = translations(language)
    return tr.ngettext(known.msgid, known.plural, n) % {"num": number(n, language=language)}


@_localizable
def megabytes(size: int, language: str = SOURCE) -> str:
    """A file's size in MB with one decimal, without the unit: "1.5" ("1,5")."""
    value = size / 1048576
    if language == SOURCE:
        return f"{value:.1f}"
    return babel_numbers.format_decimal(value, format="#,##0.0", locale=_locale(language))


@_localizable
def city(tz: str, language: str = SOURCE) -> str:
    """The city of an IANA zone as the reader names it: "New York", "Nueva York", "ニューヨーク"."""
    if language == SOURCE:
        return tz.rsplit("/", 1)[-1].replace("_", " ")
    return babel_dates.get_timezone_location(tz, locale=_locale(language), return_city=True)


@_localizable
def listing(items: tuple, language: str = SOURCE) -> str:
    """Names in a sentence: "Aiko and Ben" ("Aiko und Ben", "AikoとBen" reads "Aiko、Ben")."""
    if language == SOURCE:
        return " and ".join(str(item) for item in items)
    from mailer.locale.text import localize
    return format_list([localize(item, language) for item in items], locale=_locale(language))


@_localizable
def zone_label(moment: datetime, language: str = SOURCE) -> str:
    """The abbreviation a reader knows ("GMT", "BST", "CET"), or "UTC+05:30" when the zone has
    none; in another language the zone's name there ("heure d’Europe centrale")."""
    if language != SOURCE and moment.tzinfo is not None and getattr(moment.tzinfo, "key", None):
        return babel_dates.get_timezone_name(moment, width="long", locale=_locale(language))
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign, minutes = ("+" if offset >= timedelta(0) else "-"), abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_name(tz: str, language: str = SOURCE) -> str:
    """A time zone's name as people say it, summer or winter alike: "Central European Time",
    "heure d’Europe centrale" (Babel's ``get_timezone_name``)."""
    return babel_dates.get_timezone_name(ZoneInfo(tz), width="long", locale=_locale(language))


@_localizable
def time_range(start: datetime, end: datetime, tz: str, language: str = SOURCE) -> str:
    """A meeting's time in one zone: "Wed 20 Jan 2027, 18:00–19:30".

    When the clocks change between start and end (a London meetup from 00:30 on the night of
    the spring change), each end carries its own label: "00:30 GMT – 03:30 BST"."""
    zone = ZoneInfo(tz)
    first, last = start.astimezone(zone), end.astimezone(zone)
    say = functools.partial(_plain, language=language)
    late = say(time, last) if last.date() == first.date() else f"{say(day, last)} {say(time, last)}"
    # CLDR joins a date and a time its own way: "{1}, {0}" in most languages, "{1} {0}" in Japanese.
    joined = "{1}, {0}" if language == SOURCE else _locale(language).datetime_formats["medium"]
    if first.utcoffset() != last.utcoffset():
        start = joined.replace("{1}", say(date, first)).replace("{0}", f"{say(time, first)} {say(zone_label, first)}")
        return f"{start} – {late} {say(zone_label, last)}"
    joiner = "–" if last.date() == first.date() else " – "
    return joined.replace("{1}", say(date, first)).replace("{0}", f"{say(time, first)}{joiner}{late}")


def _plain(func: Callable[..., str], *args: Any, language: str) -> str:
    return func(*args, language=language)


FORMATTERS: dict[str, Callable[..., Any]] = {
    "date": date, "day": day, "long_date": long_date, "time": time, "duration": duration, "hours": hours,
    "number": number, "money": money, "count": count,
}
FILTERS = FORMATTERS  # the English filters, as before


@functools.lru_cache(maxsize=None)
def filters(language: str = SOURCE) -> dict[str, Callable[..., Any]]:
    """The templates' filters writing in ``language``."""
    return {name: functools.partial(func, language=language) for name, func in FORMATTERS.items()}
