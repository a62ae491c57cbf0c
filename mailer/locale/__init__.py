"""Each member's own language: which one a person reads, and the catalogs that say it.

Every fixed sentence we send is English in the source and translated through gettext
catalogs kept here, one gettext *domain* per flow (``DOMAINS``) so that each flow's strings
live in their own files::

    mailer/locale/<domain>.pot                       the extracted English messages
    mailer/locale/<lang>/LC_MESSAGES/<domain>.po     a translation (written by people)
    mailer/locale/<lang>/LC_MESSAGES/<domain>.mo     the compiled catalog (committed)

``translations(lang)`` loads a language's compiled catalogs once per process and merges its
domains into one ``babel.support.Translations``. ``python -m mailer.locale
extract|update|compile`` runs Babel over the templates and code (docs/languages.md).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent
# The languages we write emails in, English (the source) first; a regional tag falls back to
# its language (fr-CA -> fr, en-GB -> en).
LANGUAGES = ("en", "de", "fr", "es", "ja")
SOURCE = "en"
# One gettext domain per flow, plus the base layout and formats (base) and the answers the
# inbox gives when a reply reaches no flow (system), and the pages of `serve` (web).
DOMAINS = ("base", "system", "challenge", "charter", "call", "meetup", "digest", "web")
# RFC 5646 in outline: a 2-3 letter language, then subtags of 1-8 letters or digits.
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")


@lru_cache(maxsize=256)  # asked several times an email; people's tags are few
def language_of(tag: str) -> str | None:
    """The language we write for a BCP 47 tag ("fr-CA" -> "fr"), or None when we have none."""
    tag = tag.strip().lower().replace("_", "-")
    if not LANGUAGE_TAG.match(tag):
        return None
    primary = tag.partition("-")[0]
    return primary if primary in LANGUAGES else None


def language_for(person: Mapping[str, Any], default: str = SOURCE) -> str:
    """The language ``person`` reads: their own (a people-table row's ``language``), else the
    community's ``[mailer] language``, else English."""
    return language_of(person.get("language") or "") or language_of(default or "") or SOURCE


def mo_path(language: str, domain: str) -> Path:
    """Where ``domain``'s compiled catalog for ``language`` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.mo"


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """Every domain's catalog for ``language`` merged into one (loaded once per process).

    English is the source: its "translations" return each message as written. A domain not
    yet translated into ``language`` says its messages in English (the completeness test in
    tests/locale/ is what refuses to ship that)."""
    merged: Translations | None = None
    for domain in DOMAINS if language != SOURCE else ():
        path = mo_path(language, domain)
        if not path.exists():
            continue
        with path.open("rb") as fp:
            loaded = Translations(fp, domain=domain)
        merged = loaded if merged is None else merged.merge(loaded)
    return merged if merged is not None else NullTranslations()
