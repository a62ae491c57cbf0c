"""Extracting, updating and compiling the catalogs with Babel (``python -m mailer.locale``).

Each domain reads its own templates and code (``SOURCES``). Templates mark sentences with
Jinja's ``{% trans %}`` and ``_()``; code with ``_`` and ``ngettext`` from
``mailer.locale.text``. Compiled ``.mo`` files are committed beside their ``.po`` files, so
an install needs no build step; tests/locale/ fails when one is older than its ``.po``.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from mailer.locale import DOMAINS, LANGUAGES, LOCALE_DIR, SOURCE

ROOT = LOCALE_DIR.parents[1]
# domain -> the (folder, glob) its messages are extracted from, relative to the project root.
SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "base": (("templates", "base.*.j2"), ("mailer/outbound", "formats.py"), ("mailer/locale", "jinja.py")),
    "system": (("templates/system", "**.j2"), ("mailer", "inbox.py")),
    "challenge": (("templates/challenge", "**.j2"), ("mailer/flows/challenge", "**.py"),
                  ("mailer/inbound", "attachments.py")),
    "charter": (("templates/charter", "**.j2"), ("mailer/flows/charter", "**.py")),
    "call": (("templates/call", "**.j2"), ("mailer/flows/call", "**.py")),
    "meetup": (("templates/meetup", "**.j2"), ("mailer/flows/meetup", "**.py"),
               ("mailer/outbound", "invite.py")),
    "digest": (("templates/digest", "**.j2"), ("mailer/flows/digest", "**.py")),
    "web": (("templates/web", "**.j2"), ("mailer/web", "**.py"), ("mailer", "preferences.py")),
}
# Catalog dates stay fixed so that re-running a step without changes changes no file.
FIXED_DATE = datetime(2027, 1, 1, tzinfo=timezone.utc)
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE)
HEADER = "# cop-mailer's {domain} messages. Written by people: see docs/languages.md."


def pot_path(domain: str) -> Path:
    """The extracted template of ``domain``."""
    return LOCALE_DIR / f"{domain}.pot"


def po_path(language: str, domain: str) -> Path:
    """``domain``'s translation into ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def extract(domain: str) -> Catalog:
    """Every message marked in ``domain``'s templates and code, with where it was found."""
    catalog = Catalog(project="cop-mailer", version="1", domain=domain, charset="utf-8",
                      header_comment=HEADER.format(domain=domain), msgid_bugs_address="",
                      copyright_holder="", creation_date=FIXED_DATE, revision_date=FIXED_DATE,
                      last_translator="", language_team="")
    for folder, pattern in SOURCES[domain]:
        method = "jinja2" if pattern.endswith(".j2") else "python"
        found = extract_from_dir(ROOT / folder, [(pattern, method)], {pattern: JINJA_OPTIONS},
                                 keywords=DEFAULT_KEYWORDS)
        for filename, lineno, message, comments, context in found:
            catalog.add(message, None, [(f"{folder}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write ``catalog`` as a .po/.pot file (sorted by where each message is found, no dates
    that change on every run, so a re-extraction without changes leaves the file alone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    write_po(out, catalog, width=100, omit_header=False, sort_by_file=True, ignore_obsolete=True)
    data = out.getvalue()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    """A .po or .pot file as a Catalog."""
    with path.open("rb") as fp:
        return read_po(fp, locale=language)


def update(domain: str, language: str) -> Catalog:
    """``domain``'s translation into ``language`` brought up to its .pot: new messages added
    empty, changed ones marked fuzzy for a translator, gone ones dropped."""
    template = read_catalog(pot_path(domain))
    path = po_path(language, domain)
    if path.exists():
        catalog = read_catalog(path, language)
    else:
        catalog = Catalog(locale=language, domain=domain, project="cop-mailer", version="1", charset="utf-8",
                          header_comment=HEADER.format(domain=domain), msgid_bugs_address="",
                          copyright_holder="", creation_date=FIXED_DATE, revision_date=FIXED_DATE,
                          last_translator="", language_team="")
    catalog.update(template)
    catalog.fuzzy = False
    return catalog


def compiled(catalog: Catalog) -> bytes:
    """``catalog`` as .mo bytes (fuzzy messages left out: they say English until reviewed)."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()
