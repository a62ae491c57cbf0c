"""Signed links for the web pages: per person and purpose, expiring, with rotatable keys.

A link carries ``[person id, ref]`` (never an email address) signed by itsdangerous with the
home's key, salted by its purpose ("unsubscribe", "prefs", ...), so a preferences token never
opens an unsubscribe page and a token made for one series never stops another. Keys live in
``HOME/web-keys.json`` (0600, never printed): ``rotate_key`` retires the current key and makes a
new one; links signed with a retired key keep working for ``[web] old_key_days``. A token that
does not verify, has expired, or names no one reads as ``None``: the pages answer the same 404
for all of them, so nobody can probe who is a member.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from mailer import private
from mailer.errors import ConfigError

KEYS_FILE = "web-keys.json"
SALT = "cop-mailer/web/"


@dataclass(frozen=True)
class Link:
    """What a verified token says: whose it is and what it is for."""

    person_id: int
    purpose: str
    ref: str  # the series (``challenge:7``, ``digest``...) or "" for the whole person


def keys_path(home: Path) -> Path:
    """Where the home's signing keys are kept."""
    return Path(home) / KEYS_FILE


def _read_keys(home: Path) -> list[dict]:
    path = keys_path(home)
    if not path.exists():
        return []
    private.tighten(path)
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a cop-mailer key file ({exc}); move it away to start "
                          "with a new key (links already sent stop working)") from exc
    return keys


def _write_keys(home: Path, keys: list[dict]) -> None:
    private.make_dir(Path(home))
    private.write_file(keys_path(home), json.dumps({"keys": keys}, indent=1) + "\n")


def _new_key(now: datetime) -> dict:
    return {"key": secrets.token_urlsafe(32), "created": now.isoformat(), "retired": None}


def ensure_keys(home: Path, now: datetime) -> list[dict]:
    """The home's keys, oldest first; a first key is made (and kept, 0600) when there is none."""
    keys = _read_keys(home)
    if not any(k["retired"] is None for k in keys):
        keys.append(_new_key(now))
        _write_keys(home, keys)
    return keys


def rotate_key(home: Path, now: datetime, old_key_days: int) -> datetime:
    """Retire the current key, make a new one, drop keys retired longer than ``old_key_days``;
    return until when links signed with the retired key keep working."""
    keys = ensure_keys(home, now)
    for key in keys:
        key["retired"] = key["retired"] or now.isoformat()
    keys = [k for k in keys if _usable(k, now, old_key_days)] + [_new_key(now)]
    _write_keys(home, keys)
    return now + timedelta(days=old_key_days)


def _usable(key: dict, now: datetime, old_key_days: int) -> bool:
    retired = key["retired"]
    return retired is None or datetime.fromisoformat(retired) + timedelta(days=old_key_days) > now


class Signer:
    """Signs and reads links with one home's keys at a given clock."""

    def __init__(self, secret_keys: list[str], link_days: int, now: Callable[[], datetime]) -> None:
        """``secret_keys``: oldest first, the last signs; ``link_days``: how long a link works."""
        if not secret_keys:
            raise ConfigError("no signing key for web links")
        self.keys, self.max_age, self.now = list(secret_keys), link_days * 86400, now

    def _serializer(self, purpose: str, clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
        class _ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:  # the injected clock: a link is dated by the tick that made it
                return int(clock().timestamp())

        return URLSafeTimedSerializer(self.keys, salt=SALT + purpose, signer=_ClockSigner)

    def sign(self, person_id: int, purpose: str, ref: str = "", at: datetime | None = None) -> str:
        """A URL-safe token for ``person_id`` and ``purpose`` (and ``ref``, e.g. a series),
        dated ``at`` (default: the signer's clock)."""
        clock = self.now if at is None else (lambda: at)
        return self._serializer(purpose, clock).dumps([int(person_id), ref])

    def read(self, token: str, purpose: str) -> Link | None:
        """The link ``token`` stands for, or None when it is forged, expired, for another
        purpose, or not a token at all."""
        try:
            person_id, ref = self._serializer(purpose, self.now).loads(token, max_age=self.max_age)
        except (BadData, ValueError, TypeError):
            return None
        if not isinstance(person_id, int) or isinstance(person_id, bool) or not isinstance(ref, str):
            return None
        return Link(person_id, purpose, ref)


def home_signer(home: Path, now: Callable[[], datetime], link_days: int, old_key_days: int,
                extra_secret: str = "") -> Signer:
    """A ``Signer`` over the home's usable keys (``extra_secret``, from ``[web] secret``, signs
    when set; the home's keys are still read, so switching to it keeps old links working)."""
    at = now()
    keys = [k["key"] for k in ensure_keys(home, at) if _usable(k, at, old_key_days)]
    return Signer(keys + ([extra_secret] if extra_secret else []), link_days, now)
