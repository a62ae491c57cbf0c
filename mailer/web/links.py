"""The web links an email carries: one-click unsubscribe (``/u/TOKEN``, in List-Unsubscribe)
and the person's preferences (``/p/TOKEN``, in the footer). Only with ``[web] base_url`` set.

The signer is cached per home and key file version, so a worker that runs for weeks signs with
the key `serve --rotate-key` made, and composing 50,000 emails reads the key file once.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from mailer.config import Settings
from mailer.web import tokens
from mailer.web.tokens import Signer

UNSUBSCRIBE, PREFERENCES = "unsubscribe", "prefs"
_signers: dict[tuple[Path, int, str], Signer] = {}


def series_of_key(key: str) -> str | None:
    """The series an email belongs to, from its idempotency key: ``challenge:7`` for every email
    of challenge 7, ``charter:3`` for project 3's news, ``digest`` for digests; None for the rest
    (one-off emails: nothing to unsubscribe from)."""
    parts = key.split(":")
    if parts[0] == "challenge" and len(parts) > 1:
        return f"challenge:{parts[1]}"
    if parts[0] == "charter" and len(parts) > 2 and parts[2] == "news":
        return f"charter:{parts[1]}"
    if parts[0] == "digest":
        return "digest"
    return None


def signer(settings: Settings) -> Signer:
    """The home's signer, read again when its key file changes."""
    from mailer.web.context import signer_for

    path = tokens.keys_path(settings.home)
    if not path.exists():
        signer_for(settings)  # makes and keeps the home's first key
    cache_key = (Path(settings.home), path.stat().st_mtime_ns, settings.web_secret)
    if cache_key not in _signers:
        _signers.clear()
        _signers[cache_key] = signer_for(settings)
    return _signers[cache_key]


def unsubscribe_url(settings: Settings, person_id: int | None, key: str, now: datetime) -> str | None:
    """The one-click URL for the series of the email keyed ``key``, or None."""
    series = series_of_key(key)
    if not settings.web_base_url or person_id is None or series is None:
        return None
    return f"{settings.web_base_url}/u/{signer(settings).sign(person_id, UNSUBSCRIBE, series, now)}"


def preferences_url(settings: Settings, person_id: int | None, now: datetime | None = None) -> str | None:
    """The person's preferences page, or None without ``[web] base_url``."""
    if not settings.web_base_url or person_id is None:
        return None
    at = now or datetime.now(timezone.utc)
    return f"{settings.web_base_url}/p/{signer(settings).sign(person_id, PREFERENCES, '', at)}"
