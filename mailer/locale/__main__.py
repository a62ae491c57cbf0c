"""``python -m mailer.locale extract|update|compile [DOMAIN ...]`` (docs/languages.md).

extract: templates and code -> mailer/locale/<domain>.pot
update:  each .pot -> mailer/locale/<lang>/LC_MESSAGES/<domain>.po (new messages empty)
compile: each .po -> .mo beside it (commit both)
"""
from __future__ import annotations

import sys

from mailer.locale import DOMAINS
from mailer.locale import catalogs


def main(argv: list[str]) -> int:
    """Run one step over the domains named (all when none are)."""
    if not argv or argv[0] not in ("extract", "update", "compile"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    domains = argv[1:] or list(DOMAINS)
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        print(f"unknown domain {unknown[0]!r}; expected one of {', '.join(DOMAINS)}", file=sys.stderr)
        return 2
    for domain in domains:
        for line in STEPS[argv[0]](domain):
            print(line)
    return 0


def _extract(domain: str) -> list[str]:
    catalog = catalogs.extract(domain)
    catalogs.write_catalog(catalog, catalogs.pot_path(domain))
    return [f"{domain}: {len(catalog)} messages -> {catalogs.pot_path(domain).relative_to(catalogs.ROOT)}"]


def _update(domain: str) -> list[str]:
    lines = []
    for language in catalogs.TRANSLATED:
        catalog = catalogs.update(domain, language)
        catalogs.write_catalog(catalog, catalogs.po_path(language, domain))
        todo = sum(1 for m in catalog if m.id and (not m.string or m.fuzzy))
        lines.append(f"{domain} {language}: {len(catalog)} messages, {todo} to translate")
    return lines


def _compile(domain: str) -> list[str]:
    lines = []
    for language in catalogs.TRANSLATED:
        po = catalogs.po_path(language, domain)
        if not po.exists():
            continue
        mo = po.with_suffix(".mo")
        data = catalogs.compiled(catalogs.read_catalog(po, language))
        if not mo.exists() or mo.read_bytes() != data:
            mo.write_bytes(data)
        lines.append(f"{domain} {language}: {mo.relative_to(catalogs.ROOT)}")
    return lines


STEPS = {"extract": _extract, "update": _update, "compile": _compile}

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
