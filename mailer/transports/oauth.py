"""OAuth for SMTP and IMAP: app-only access tokens, and logging in with them (SASL XOAUTH2).

Two token sources, each keeping its token until shortly before it expires:

- Microsoft 365: client credentials from msal, through the Graph transport's ``MsalTokens``
  (msal keeps the token and fetches a new one 5 minutes before expiry), asked for the scope
  ``https://outlook.office365.com/.default`` that Exchange Online's SMTP and IMAP take;
- Google Workspace: a service account with domain-wide delegation (google-auth), acting as the
  mailbox (``subject``) for the scope ``https://mail.google.com/`` (google-auth counts a token as
  expired a few minutes early and fetches a new one).

XOAUTH2, as Google and Microsoft document it: the client's initial response is
``user=<mailbox>^Aauth=Bearer <token>^A^A`` (base64 on the wire). A refused token gets a
challenge carrying JSON (``{"status": "401", "schemes": "bearer", "scope": …}``), the client
answers with an empty response, and the server ends with 535 (SMTP) or NO (IMAP). A refused
token is fetched anew and tried once more: a cached token can be revoked before it expires.
"""
from __future__ import annotations

import json
import threading
import smtplib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from imapclient.exceptions import LoginError

from mailer import private
from mailer.errors import ConfigError, MailerError, TemporarySendError, TransportError
from mailer.transports.base import CheckLine

if TYPE_CHECKING:
    from imapclient import IMAPClient

    from mailer.config import Settings

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"


@dataclass(frozen=True)
class OAuthSettings:
    """The ``[oauth]`` settings, with the client secret from the environment."""

    provider: str  # microsoft | google
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    certificate_path: str = ""
    authority: str = "https://login.microsoftonline.com"
    key_file: str = ""
    scope: str = ""  # empty: the provider's (MICROSOFT_SCOPE, GOOGLE_SCOPE)


class TokenSource(Protocol):
    """Where access tokens come from; ``what`` names the provider and library in messages."""

    what: str

    def token(self) -> str:
        """A valid access token (the kept one until shortly before it expires); ``TransportError``
        when the provider refuses or cannot be reached."""

    def refresh(self) -> bool:
        """Forget the kept token so the next ``token()`` fetches a new one."""


class MicrosoftTokens:
    """App-only tokens for Exchange Online's SMTP and IMAP: the Graph transport's msal client,
    asked for Exchange's scope instead of Graph's (one msal application, one cache)."""

    def __init__(self, s: OAuthSettings, http_client: Any = None) -> None:
        from mailer.transports.graph_http import GraphSettings, MsalTokens

        scope = s.scope or MICROSOFT_SCOPE
        # MsalTokens asks for "<endpoint's host>/.default": give it the resource of our scope.
        graph = GraphSettings(mailbox="", tenant_id=s.tenant_id, client_id=s.client_id,
                              auth="certificate" if s.certificate_path else "client-secret",
                              client_secret=s.client_secret, certificate_path=s.certificate_path,
                              endpoint=scope.removesuffix("/.default"), authority=s.authority)
        self._msal = MsalTokens(graph, http_client)
        self.what = "Microsoft (msal, client credentials)"

    def token(self) -> str:
        """A token for ``scope``, from msal's cache until 5 minutes before it expires."""
        token = self._msal.token()
        if not token:
            raise TransportError("Microsoft sign-in gave no access token")
        return token

    def refresh(self) -> bool:
        """Drop the token from msal's cache."""
        return self._msal.refresh()


class GoogleTokens:
    """Tokens for one Google Workspace mailbox: a service account acting as ``subject`` by
    domain-wide delegation (google-auth; the key file names the token endpoint)."""

    def __init__(self, s: OAuthSettings, subject: str, request: Any = None) -> None:
        self.settings, self.subject, self.request = s, subject, request
        self.what = f"Google (google-auth, service account as {subject})"
        self._credentials: Any = None
        # `[smtp] connections = N` logs in from N threads; google-auth's credentials are not
        # thread-safe, so one refresh at a time (msal keeps its own lock).
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._credentials is None:
            from google.oauth2 import service_account

            try:
                self._credentials = service_account.Credentials.from_service_account_file(
                    self.settings.key_file, scopes=[self.settings.scope or GOOGLE_SCOPE], subject=self.subject)
            except (OSError, ValueError, KeyError) as exc:
                raise TransportError(f"oauth.key_file = {self.settings.key_file!r}: not a readable service "
                                     f"account key: {exc}") from exc
        return self._credentials

    def token(self) -> str:
        """The kept token while google-auth says it is valid, else a new one."""
        from google.auth import exceptions
        from google.auth.transport.requests import Request

        with self._lock:
            credentials = self._load()
            if not credentials.valid:
                try:
                    credentials.refresh(self.request or Request())
                except exceptions.RefreshError as exc:
                    raise TransportError(f"Google refused a token for {self.subject}: {exc.args[0]}") from exc
                except exceptions.TransportError as exc:
                    raise TransportError(f"cannot reach Google's token endpoint: {exc}") from exc
            return credentials.token

    def refresh(self) -> bool:
        """Forget the token (a credentials object without one is not valid)."""
        with self._lock:
            if self._credentials is not None:
                self._credentials.token = None
        return True


def xoauth2_string(user: str, token: str) -> str:
    """The XOAUTH2 initial client response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class Xoauth2Answer:
    """One XOAUTH2 exchange from the client's side, as smtplib's and imaplib's ``authobject``:
    the initial response first; to a later challenge (the server's error JSON) an empty
    response, keeping the challenge to say why the token was refused."""

    def __init__(self, user: str, token: str) -> None:
        self.initial = xoauth2_string(user, token)
        self.sent = False
        self.challenge: bytes | None = None

    def __call__(self, challenge: bytes | None = None) -> str:
        """What to send next."""
        if not self.sent:
            self.sent = True
            return self.initial
        self.challenge = challenge or b""
        return ""


def explain_refusal(challenge: bytes | None) -> str:
    """The server's XOAUTH2 error challenge in words ("" when it sent none)."""
    if not challenge:
        return ""
    try:
        error = json.loads(challenge)
    except ValueError:
        return f"; the server said: {challenge.decode('utf-8', 'replace')}"
    if not isinstance(error, dict):
        return f"; the server said: {error}"
    said = ", ".join(f"{key} {value}" for key, value in error.items())
    return f"; the server said: {said} (is the token for this mailbox, with this scope, and not expired?)"


def _token(tokens: TokenSource) -> str:
    try:
        return tokens.token()
    except MailerError as exc:
        raise TransportError(f"cannot get an OAuth token from {tokens.what}: {exc}") from exc


def smtp_xoauth2(conn: smtplib.SMTP, user: str, tokens: TokenSource, where: str) -> None:
    """AUTH XOAUTH2 on an open SMTP session (after EHLO and STARTTLS), once more with a new token
    when the kept one is refused. Every failure is ``TemporarySendError``: it is about the
    account, not a message, so queued mail is not declared dead for it."""
    offered = str(conn.esmtp_features.get("auth", "")).upper().split()
    if "XOAUTH2" not in offered:
        raise TemporarySendError(f"SMTP {where} does not offer AUTH XOAUTH2 (it offers: "
                                 f"{' '.join(offered) or 'no AUTH at all'})")
    for attempt in (1, 2):
        try:
            answer = Xoauth2Answer(user, _token(tokens))
        except TransportError as exc:
            raise TemporarySendError(str(exc)) from exc
        try:
            conn.auth("XOAUTH2", answer, initial_response_ok=True)
            return
        except smtplib.SMTPAuthenticationError as exc:
            if attempt == 1 and tokens.refresh():
                continue
            said = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise TemporarySendError(f"SMTP {where} refused the OAuth token of {tokens.what} for {user}: "
                                     f"{exc.smtp_code} {said}{explain_refusal(answer.challenge)}") from exc


def imap_xoauth2(client: IMAPClient, user: str, tokens: TokenSource) -> None:
    """AUTHENTICATE XOAUTH2, once more with a new token when the kept one is refused; a refusal
    is imapclient's ``LoginError`` saying why, a token that cannot be had a ``TransportError``.

    Not ``IMAPClient.oauth2_login``: it answers the server's error challenge with the token
    again instead of the empty response XOAUTH2 asks for, and drops the challenge that says why.
    """
    for attempt in (1, 2):
        answer = Xoauth2Answer(user, _token(tokens))
        try:
            client._imap.authenticate("XOAUTH2", answer)  # imaplib's, under imapclient
            return
        except client.AbortError:
            raise  # the connection broke: the caller's reconnecting, not a refusal
        except client.Error as exc:
            if attempt == 1 and tokens.refresh():
                continue
            raise LoginError(f"the OAuth token of {tokens.what} for {user} was refused: "
                             f"{exc}{explain_refusal(answer.challenge)}") from exc


def check_tokens(sources: list[tuple[str, str, TokenSource | None]]) -> list[CheckLine]:
    """One ``check`` line per (protocol, user, source) with a source: could a token be had?"""
    lines = []
    for protocol, user, tokens in sources:
        if tokens is None:
            continue
        try:
            _token(tokens)
            lines.append(CheckLine("OAuth token", True, f"{protocol}: {tokens.what} gave a token for {user}"))
        except TransportError as exc:
            lines.append(CheckLine("OAuth token", False, f"{protocol}: {exc}"))
    return lines


def oauth_settings(settings: Settings) -> OAuthSettings:
    """The ``[oauth]`` settings, file paths made absolute against the home folder."""
    def path(value: str) -> str:
        return str(settings.home / value) if value and not Path(value).is_absolute() else value

    return OAuthSettings(provider=settings.oauth_provider, tenant_id=settings.oauth_tenant_id,
                         client_id=settings.oauth_client_id, client_secret=settings.oauth_client_secret,
                         certificate_path=path(settings.oauth_certificate_path),
                         authority=settings.oauth_authority, key_file=path(settings.oauth_key_file),
                         scope=settings.oauth_scope)


def config_problems(s: OAuthSettings) -> list[str]:
    """What keeps these settings from ever giving a token, naming the key and what was expected."""
    if s.provider == "google":
        return _google_problems(s)
    problems = [f"oauth.{key} is empty; expected the app registration's {key.replace('_', ' ')}"
                for key in ("tenant_id", "client_id") if not getattr(s, key)]
    if not s.client_secret and not s.certificate_path:
        problems.append("provider microsoft needs MAILER_OAUTH_CLIENT_SECRET in the environment, "
                        "or oauth.certificate_path")
    return problems


def _google_problems(s: OAuthSettings) -> list[str]:
    if not s.key_file:
        return ["oauth.key_file is empty; expected the service account's JSON key file"]
    try:
        key = json.loads(Path(s.key_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"oauth.key_file = {s.key_file!r}: cannot read it as JSON: {exc}"]
    if not isinstance(key, dict) or key.get("type") != "service_account":
        return [f"oauth.key_file = {s.key_file!r}: not a service account key (\"type\": \"service_account\")"]
    mode = private.readable_by_others(Path(s.key_file))
    if mode is not None:  # it holds a private key: refuse as for a password (config.refuse_exposed_secrets)
        return [f"oauth.key_file = {s.key_file!r}: others can read it (mode {mode:04o}); run chmod 600 on it"]
    return []


def token_sources(settings: Settings, http_client: Any = None) -> dict[str, TokenSource | None]:
    """``smtp_tokens`` and ``imap_tokens`` for SmtpImapSettings: None where ``auth = "password"``.

    Refuses (``ConfigError``) what cannot work before anything is queued. Microsoft's app-only
    token serves every mailbox the app may use, so SMTP and IMAP share one; Google's is per mailbox.
    """
    wanted = {"smtp_tokens": (settings.smtp_auth, "smtp", settings.smtp_user),
              "imap_tokens": (settings.imap_auth, "imap", settings.imap_user)}
    if all(auth != "xoauth2" for auth, _, _ in wanted.values()):
        return {name: None for name in wanted}
    where = settings.home / "mailer.toml"
    s = oauth_settings(settings)
    problems = config_problems(s) + [f"{section}.auth = \"xoauth2\" but {section}.user is empty; expected "
                                     "the mailbox to log in as" for auth, section, user in wanted.values()
                                     if auth == "xoauth2" and not user]
    for problem in problems:
        raise ConfigError(f"{where}: {problem}")
    shared = MicrosoftTokens(s, http_client) if s.provider == "microsoft" else None
    per_user: dict[str, TokenSource] = {}
    return {name: None if auth != "xoauth2" else shared or per_user.setdefault(user, GoogleTokens(s, user))
            for name, (auth, _, user) in wanted.items()}
