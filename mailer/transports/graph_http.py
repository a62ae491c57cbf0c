"""Talking to Microsoft Graph: app-only tokens from msal, and one request with its retries.

Graph answers a request it will not serve now with 429 (sometimes 503) and ``Retry-After`` in
seconds; the caller is expected to wait that long and send the same request again
(notes/graph.md "Limits"). ``GraphHttp.request`` does exactly that, a few times, and never
sends anything while a wait is still running: a wait longer than ``MAX_WAIT_SECONDS`` is not
sat out inside a tick but kept in the store and reported at once, without a request, until it
has passed. Time spent waiting on Graph is never an attempt: a throttled send is "later".

A 401 means the token was refused (revoked, or expired early): the token is dropped from msal's
cache, a new one fetched, and the request sent once more.
"""
from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import quote, urlencode, urlsplit

import requests

from mailer.errors import ConfigError, GoneError, TemporarySendError, TransportError

SCOPE = "https://graph.microsoft.com/.default"
MAX_THROTTLES = 3  # throttled answers one request waits out before giving up for this tick
MAX_WAIT_SECONDS = 60.0  # a longer Retry-After is reported at once instead of blocking the worker
DEFAULT_RETRY_AFTER = 10.0  # when a 429/503 comes without Retry-After
THROTTLED = (429, 503)
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", re.S)


def odata_query(params: dict[str, str]) -> str:
    """A query string with spaces as %20: "+" for a space is a form convention OData need not follow."""
    return urlencode(params, quote_via=quote, safe="$,")


def odata_string(value: str) -> str:
    """An OData string literal: in single quotes, a quote inside doubled (OData ABNF, SQUOTE-in-string)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class GraphSettings:
    """The ``[graph]`` settings the transport needs, with the secret from the environment."""

    mailbox: str
    tenant_id: str = ""
    client_id: str = ""
    auth: str = "client-secret"  # client-secret | certificate | none
    client_secret: str = ""
    certificate_path: str = ""
    endpoint: str = "https://graph.microsoft.com/v1.0"
    authority: str = "https://login.microsoftonline.com"
    processed_folder: str = "Processed"
    native_meetings: bool = False
    page_size: int = 50
    timeout: float = 60.0


class Clock(Protocol):
    """Where waiting happens: the wall clock in production, a recording one in tests."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    def sleep(self, seconds: float) -> None:
        """Wait this long."""


class WallClock:
    """The real monotonic clock and ``time.sleep``."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        time.sleep(seconds)


class NoTokens:
    """``auth = "none"``: no Authorization header at all (local test servers only)."""

    def token(self) -> str | None:
        """No token."""
        return None

    def refresh(self) -> bool:
        """Nothing to refresh: a 401 stays a 401."""
        return False


class MsalTokens:
    """App-only tokens (client credentials) from msal, cached by msal until 5 minutes before expiry.

    ``http_client`` lets tests reach a local token endpoint: msal refuses an ``http://``
    authority, so the test gives an ``https://`` one and an http client that rewrites it.
    """

    def __init__(self, settings: GraphSettings, http_client: Any = None) -> None:
        self.settings = settings
        self.http_client = http_client
        self._app: Any = None

    def _application(self) -> Any:
        if self._app is None:
            import msal  # only a graph deployment pays for the import

            s = self.settings
            options: dict[str, Any] = {"http_client": self.http_client} if self.http_client else {}
            if self.http_client is not None:
                options["instance_discovery"] = False  # a test authority msal does not know
            try:  # building the app fetches the tenant's OpenID configuration
                self._app = msal.ConfidentialClientApplication(
                    s.client_id, client_credential=client_credential(s),
                    authority=f"{s.authority.rstrip('/')}/{s.tenant_id}", **options)
            except (ValueError, ConfigError, requests.RequestException) as exc:
                raise TransportError(f"cannot sign in at {s.authority}: {exc}") from exc
        return self._app

    def token(self) -> str | None:
        """A valid access token (from msal's cache unless it expires within 5 minutes)."""
        try:
            result = self._application().acquire_token_for_client(scopes=[scope_for(self.settings.endpoint)])
        except requests.RequestException as exc:
            raise TransportError(f"cannot reach the sign-in authority: {exc}") from exc
        if "access_token" not in result:
            first = (result.get("error_description") or "").split("\n")[0]
            raise TransportError(f"sign-in refused: {result.get('error')}: {first}")
        return result["access_token"]

    def refresh(self) -> bool:
        """Forget the cached token so the next ``token()`` asks for a new one."""
        self._application().remove_tokens_for_client()
        return True


def client_credential(s: GraphSettings) -> str | dict[str, str]:
    """The secret, or the private key and certificate read from ``certificate_path`` (PEM)."""
    if s.auth == "client-secret":
        if not s.client_secret:
            raise ConfigError("graph.auth = \"client-secret\" needs MAILER_GRAPH_CLIENT_SECRET in the environment")
        return s.client_secret
    try:
        text = Path(s.certificate_path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"graph.certificate_path = {s.certificate_path!r}: cannot read it: {exc}") from exc
    blocks = {m.group(1): m.group(0) for m in _PEM_BLOCK.finditer(text)}
    key = next((b for name, b in blocks.items() if name.endswith("PRIVATE KEY")), None)
    if key is None or "CERTIFICATE" not in blocks:
        raise ConfigError(f"graph.certificate_path = {s.certificate_path!r}: expected a PEM file "
                          "holding the private key and its certificate")
    # Without a thumbprint msal computes the certificate's SHA-256 one (msal >= 1.35).
    return {"private_key": key, "public_certificate": blocks["CERTIFICATE"]}


def scope_for(endpoint: str) -> str:
    """The app-only scope of the Graph at ``endpoint``: its host's ``/.default`` (national clouds
    have their own hosts, e.g. graph.microsoft.us); a local http test server gets the global one."""
    parts = urlsplit(endpoint)
    return f"https://{parts.netloc}/.default" if parts.scheme == "https" and parts.netloc else SCOPE


def make_tokens(settings: GraphSettings, http_client: Any = None) -> NoTokens | MsalTokens:
    """The token source ``graph.auth`` asks for."""
    return NoTokens() if settings.auth == "none" else MsalTokens(settings, http_client)


def token_roles(token: str | None) -> list[str] | None:
    """The application permissions (``roles`` claim) an access token carries; None if unreadable.

    Only read, never verified: it is our own token, and Graph checks it on every call.
    """
    if not token or token.count(".") < 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return [str(r) for r in roles] if isinstance(roles, list) else []


def retry_after(resp: requests.Response) -> float:
    """Seconds ``Retry-After`` asks for (a number or an HTTP date), else the default."""
    value = (resp.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
        return max(moment.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def error_code(resp: requests.Response) -> str:
    """Graph's error code (``{"error": {"code": …}}``), or "" when the body has none."""
    try:
        error = resp.json().get("error")
    except ValueError:
        return ""
    if isinstance(error, dict):
        return str(error.get("code") or "")
    return str(error or "")


def describe(resp: requests.Response, what: str) -> str:
    """One line for a refused request: what, the status, Graph's code and message."""
    try:
        error = resp.json().get("error") or {}
        message = error.get("message", "") if isinstance(error, dict) else str(error)
    except ValueError:
        message = resp.text[:200]
    code = error_code(resp)
    return f"{what}: HTTP {resp.status_code}{' ' + code if code else ''}{': ' + message if message else ''}"


class Waits(Protocol):
    """Where a long wait Graph asked for is kept: ``SyncState`` (the store) or ``MemoryWaits``."""

    def wait_until(self, key: str) -> datetime | None:
        """Until when we must send nothing."""

    def wait(self, key: str, until: datetime, reason: str, now: datetime) -> None:
        """Keep a wait."""


class MemoryWaits:
    """Waits kept in this process only (no database given: tests and ``check``)."""

    def __init__(self) -> None:
        self.until: dict[str, datetime] = {}

    def wait_until(self, key: str) -> datetime | None:
        """Until when we must send nothing."""
        return self.until.get(key)

    def wait(self, key: str, until: datetime, reason: str, now: datetime) -> None:
        """Keep a wait (the later one, if one is kept already)."""
        self.until[key] = max(self.until.get(key, until), until)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def throttled_error(kind: type[TransportError], text: str, seconds: float) -> TransportError:
    """The error for a request Graph will not serve for ``seconds``: a send gets the wait as
    ``retry_after`` ("later", never an attempt: the outbox postpones it untried)."""
    if issubclass(kind, TemporarySendError):
        return kind(text, retry_after=max(seconds, 1.0))
    return kind(text)


class GraphHttp:
    """One requests session to Graph, with the token, throttling and 401 handling.

    A ``Retry-After`` up to ``MAX_WAIT_SECONDS`` is slept through (``clock``); a longer one, or
    throttling that goes on past ``MAX_THROTTLES`` answers, is kept in ``waits`` (the store)
    until ``now() + Retry-After``: until then no request of any process reaches Graph.
    """

    def __init__(self, settings: GraphSettings, tokens: NoTokens | MsalTokens,
                 session: requests.Session | None = None, clock: Clock | None = None,
                 waits: Waits | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.tokens = tokens
        self.session = session or requests.Session()
        self.clock = clock or WallClock()
        self.waits = waits if waits is not None else MemoryWaits()
        self.now = now or _utc_now
        self.wait_key = f"graph:{settings.mailbox.lower()}"
        self.blocked_until = 0.0  # monotonic time before which a short wait is being slept out

    def url(self, path: str) -> str:
        """The full URL of a path under the endpoint (``/users/…``)."""
        return self.settings.endpoint.rstrip("/") + path

    def request(self, method: str, url: str, throttled: type[TransportError] = TransportError,
                **kwargs: Any) -> requests.Response:
        """Send one request, waiting out throttling and refreshing a refused token once.

        Returns the final response, whatever its status; network errors are requests'
        own exceptions (the caller knows whether the request may have arrived). A wait kept in
        the store, or throttling beyond what one request sits out, raises ``throttled``.
        """
        refreshed, throttles = False, 0
        while True:
            self._honour_kept_wait(throttled)
            self._wait_out_throttling()
            resp = self._once(method, url, **kwargs)
            if resp.status_code == 401 and not refreshed and self.tokens.refresh():
                refreshed = True
                continue
            if resp.status_code not in THROTTLED:
                return resp
            seconds, throttles = retry_after(resp), throttles + 1
            if seconds > MAX_WAIT_SECONDS or throttles > MAX_THROTTLES:
                text = describe(resp, "Graph is throttling us")
                self.waits.wait(self.wait_key, self.now() + timedelta(seconds=seconds), text, self.now())
                raise throttled_error(throttled, f"{text}; waiting {seconds:.0f} s as asked (Retry-After)",
                                      seconds)
            self.blocked_until = self.clock.monotonic() + seconds

    def _honour_kept_wait(self, throttled: type[TransportError]) -> None:
        """Raise, sending nothing, while a wait Graph asked for (kept in the store) runs."""
        until = self.waits.wait_until(self.wait_key)
        left = (until - self.now()).total_seconds() if until is not None else 0.0
        if left > 0:
            raise throttled_error(throttled, f"Graph asked us to wait {left:.0f} s more (Retry-After); "
                                  "trying later", left)

    def _wait_out_throttling(self) -> None:
        remaining = self.blocked_until - self.clock.monotonic()
        if remaining > 0:
            self.clock.sleep(remaining)

    def _once(self, method: str, url: str, headers: dict[str, str] | None = None,
              **kwargs: Any) -> requests.Response:
        sent_headers = dict(headers or {})
        token = self.tokens.token()
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, url, headers=sent_headers, timeout=self.settings.timeout,
                                    **kwargs)

    def json(self, method: str, url: str, what: str, ok: Callable[[int], bool] = lambda s: s < 300,
             **kwargs: Any) -> dict:
        """A request whose answer is JSON; any failure is a ``TransportError`` naming ``what``."""
        try:
            resp = self.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise TransportError(f"{what}: cannot reach Graph: {exc}") from exc
        if not ok(resp.status_code):
            raise (GoneError if resp.status_code == 404 else TransportError)(describe(resp, what))
        try:
            return resp.json() if resp.content else {}
        except ValueError as exc:
            raise TransportError(f"{what}: Graph answered with something that is not JSON") from exc

    def close(self) -> None:
        """Close the pooled connections; safe to call twice."""
        self.session.close()
