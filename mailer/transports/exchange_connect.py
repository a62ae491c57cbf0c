"""Connecting to Exchange through exchangelib, and what its errors mean for a send.

Kept apart from the transport so that the transport reads as mail handling only. Notes in
``notes/exchange.md``; the numbers in comments below refer to exchangelib issues.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from exchangelib import (DELEGATE, IMPERSONATION, Account, Configuration, Credentials, FaultTolerance,
                         Identity, OAuth2Credentials)
from exchangelib.errors import (EWSError, ErrorAccessDenied, ErrorNonExistentMailbox, ErrorServerBusy,
                                ErrorTimeoutExpired, MalformedResponseError, RateLimitError, SOAPError,
                                UnauthorizedError)
from exchangelib.transport import BASIC, NOAUTH, NTLM, OAUTH2
from exchangelib.version import Build, Version
from oauthlib.oauth2 import OAuth2Error
from requests import RequestException

from mailer.errors import ConfigError, PermanentSendError, TemporarySendError, TooLargeError, TransportError, UncertainSendError

# Everything exchangelib (and the HTTP and OAuth layers under it) raises when a call fails.
EWS_ERRORS = (EWSError, RequestException, OAuth2Error, OSError)
# A busy hint up to this long is slept through inside exchangelib and the call retried; a longer
# one comes back to us as RateLimitError and the message waits in the outbox instead. Keep it
# below exchangelib's 10 s connection-retry wait: a timed-out CreateItem is then never resent by
# exchangelib itself (it may have been sent; only the Sent-folder check may decide).
INLINE_WAIT = 5
OFFICE365_EWS = "https://outlook.office365.com/EWS/Exchange.asmx"
AUTH_TYPES = {"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2, "none": NOAUTH}
# Response codes that say the message itself can never go as it is (dead, not retried).
PERMANENT_CODES = {"ErrorInvalidRecipients", "ErrorMessageSizeExceeded", "ErrorMimeContentConversionFailed",
                   "ErrorMimeContentInvalid", "ErrorInvalidSmtpAddress", "ErrorMessageTrackingPermanentError"}


@dataclass(frozen=True)
class ExchangeSettings:
    """The ``[exchange]`` settings plus the two secrets from the environment."""

    mailbox: str
    endpoint: str = ""
    auth: str = "ntlm"
    username: str = ""
    password: str = ""
    client_id: str = ""
    client_secret: str = ""
    tenant_id: str = ""
    version: str = "15.1"
    max_connections: int = 2
    processed_folder: str = "Processed"
    native_meetings: bool = False  # offer ``calendar``: meetups as calendar items Exchange mails itself
    source: str = "mailer.toml"  # named in configuration errors


def parse_build(text: str, source: str = "mailer.toml") -> Build:
    """``15.1`` or ``15.1.2507.6`` as an exchangelib Build."""
    try:
        parts = [int(p) for p in text.strip().split(".")]
        if not 2 <= len(parts) <= 4:
            raise ValueError(text)
        return Build(*parts)
    except ValueError:
        raise ConfigError(f"{source}: exchange.version = {text!r}; expected a build number like 15.1 "
                          "(Exchange 2016), 15.2 (2019) or 15.20 (Exchange Online)") from None


def validate(s: ExchangeSettings) -> None:
    """Refuse settings that cannot work, naming the key and what is missing."""
    if "@" not in s.mailbox:
        raise ConfigError(f"{s.source}: exchange.mailbox = {s.mailbox!r}; expected the service's mail address")
    if s.auth in ("ntlm", "basic") and not (s.username and s.password):
        raise ConfigError(f"{s.source}: exchange.auth = {s.auth!r} needs exchange.username and the "
                          "MAILER_EXCHANGE_PASSWORD environment variable")
    if s.auth == "oauth2" and not (s.client_id and s.tenant_id and s.client_secret):
        raise ConfigError(f"{s.source}: exchange.auth = 'oauth2' needs exchange.client_id, exchange.tenant_id "
                          "and the MAILER_EXCHANGE_CLIENT_SECRET environment variable")
    if s.auth == "none" and not s.endpoint:
        raise ConfigError(f"{s.source}: exchange.auth = 'none' is for a local test server; set exchange.endpoint")
    parse_build(s.version, s.source)


def _credentials(s: ExchangeSettings):
    if s.auth == "oauth2":
        # App-only tokens are refused without impersonation (exchangelib #735).
        return OAuth2Credentials(client_id=s.client_id, client_secret=s.client_secret, tenant_id=s.tenant_id,
                                 identity=Identity(primary_smtp_address=s.mailbox))
    if s.auth in ("ntlm", "basic"):
        return Credentials(s.username, s.password)
    return None


def connect(s: ExchangeSettings) -> Account:
    """An Account for the mailbox. Pinning version and auth type skips exchangelib's probe requests."""
    endpoint = s.endpoint or (OFFICE365_EWS if s.auth == "oauth2" else None)
    config = Configuration(service_endpoint=endpoint, credentials=_credentials(s), auth_type=AUTH_TYPES[s.auth],
                           version=Version(build=parse_build(s.version, s.source)),
                           retry_policy=FaultTolerance(max_wait=INLINE_WAIT),
                           max_connections=s.max_connections or 1)
    access = IMPERSONATION if s.auth == "oauth2" else DELEGATE
    return Account(s.mailbox, config=config, autodiscover=endpoint is None, access_type=access)


def disconnect(account: Account) -> None:
    """Close the account's HTTP sessions and drop its cached protocol.

    exchangelib caches one protocol per endpoint and credentials, and the first configuration's
    retry policy wins (notes/exchange.md pitfall 1): a transport built again must start afresh.
    """
    protocol = account.protocol
    protocol.close()
    try:
        del type(protocol)[protocol.config]
    except KeyError:
        pass


def plain(exc: BaseException) -> str:
    """A failed call in a few plain words, for ``run.py check`` and the worker's notes."""
    text = str(exc)
    if "Connection refused" in text or "Name or service not known" in text:
        return "cannot reach the server (connection refused or unknown host: is exchange.endpoint right?)"
    if isinstance(exc, UnauthorizedError):
        return "the server refused the login (user name, password, or the app's permissions)"
    if isinstance(exc, ErrorNonExistentMailbox):
        return "the server has no such mailbox (exchange.mailbox)"
    if isinstance(exc, ErrorAccessDenied):
        return f"access denied: {text}"
    wait = busy_wait(exc)
    if wait is not None:
        return f"the server is busy and asked us to wait {wait:.0f} s"
    return f"{type(exc).__name__}: {text[:300]}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, innermost last."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _made_up_busy(exc: BaseException) -> bool:
    """exchangelib turns timeouts and closed connections into ErrorServerBusy of its own making."""
    return isinstance(exc, ErrorServerBusy) and str(exc).startswith(("Reraised from", "Caused by"))


def busy_wait(exc: BaseException) -> float | None:
    """Seconds Exchange asked us to wait (ErrorServerBusy's BackOffMilliseconds), if that is what this is."""
    chain = list(_chain(exc))
    if any(_made_up_busy(e) or isinstance(e, ErrorTimeoutExpired) for e in chain):
        return None
    for e in chain:
        if isinstance(e, RateLimitError):
            return float(e.wait)
        if isinstance(e, ErrorServerBusy):
            return float(e.back_off or 60)
    return None


def reached_server(exc: BaseException) -> bool:
    """True when the request may have been carried out but no clear answer came back."""
    uncertain = (ErrorTimeoutExpired, MalformedResponseError, SOAPError, RequestException)
    return any(isinstance(e, uncertain) or _made_up_busy(e) for e in _chain(exc))


def send_error(exc: BaseException) -> TransportError:
    """What a failed CreateItem(SendAndSaveCopy) means for the outbox row."""
    wait = busy_wait(exc)
    if wait is not None:
        return TemporarySendError(f"Exchange is busy; it asked us to wait {wait:.0f} s", retry_after=wait)
    if reached_server(exc):
        # The request left; Exchange may have sent it. Sent Items will tell (notes: "A timeout
        # after CreateItem may still have sent the mail").
        return UncertainSendError(f"no clear answer from Exchange after sending: {exc}")
    if type(exc).__name__ == "ErrorMessageSizeExceeded":
        return TooLargeError(f"Exchange refused the message as too large: {exc}")
    if type(exc).__name__ in PERMANENT_CODES:
        return PermanentSendError(f"Exchange refused the message: {type(exc).__name__}: {exc}")
    return TemporarySendError(f"Exchange did not take the message: {type(exc).__name__}: {exc}")
