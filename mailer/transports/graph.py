"""The Microsoft Graph transport: Exchange Online / Microsoft 365 after EWS (notes/graph.md).

- Send: ``POST /users/{mailbox}/sendMail`` with our MIME bytes base64-encoded as
  ``text/plain``, so our Message-ID and headers survive; 202 means accepted, and the copy lands
  in Sent Items. A failure once the request may have arrived (a dropped connection, a 5xx) is
  ``UncertainSendError``; ``find_sent`` then looks for the Message-ID in Sent Items.
- Read (graph_read.py): a delta query on the inbox, page by page (``@odata.nextLink``), then
  each message's MIME (``$value``), oldest first; the round's ``@odata.deltaLink`` is saved
  only once the inbox has kept every message of the round.
- File away: ``done`` moves the message to the processed folder (found, or created once);
  Graph gives the moved message a new id, which we never need.
- Throttling (graph_http.py): a long ``Retry-After`` is kept in the store; a throttled send is
  "later", never an attempt.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import requests
from sqlite_utils import Database
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from mailer.config import Settings
from mailer.errors import (ConfigError, PermanentSendError, TemporarySendError, TooLargeError, TransportError,
                           UncertainSendError)
from mailer.store.sync_state import SyncState
from mailer.transports.base import CheckLine, Outgoing
from mailer.transports.graph_calendar import GraphCalendar
from mailer.transports.graph_http import (Clock, GraphHttp, GraphSettings, MsalTokens, NoTokens, client_credential,
                                          describe, error_code, make_tokens, odata_query, odata_string,
                                          token_roles)
from mailer.transports.graph_read import STATE_KEY, GraphReading, MemoryState, PositionStore

__all__ = ["STATE_KEY", "GraphTransport", "from_settings", "config_problems"]

PERMANENT_SEND = {400, 413, 415, 422}  # the message itself is refused: it never will be accepted


def never_connected(exc: BaseException) -> bool:
    """Whether a requests error happened before a connection existed (nothing can have arrived)."""
    seen: BaseException | None = exc
    for _ in range(8):  # requests wraps urllib3's MaxRetryError, which names the reason
        if seen is None:
            return False
        if isinstance(seen, (requests.ConnectTimeout, NewConnectionError, ConnectTimeoutError)):
            return True
        inner = getattr(seen, "reason", None)
        if inner is None and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]
        seen = inner if isinstance(inner, BaseException) else seen.__cause__
    return False


class GraphTransport(GraphReading):
    """Sends with ``sendMail``, reads with a delta query (``GraphReading``), files away with ``move``."""

    kind = "graph"
    keeps_sent = True
    # Graph refuses a request over 4 MB (Microsoft Graph throttling/limits docs); sendMail carries
    # the MIME base64-encoded (4 bytes for 3), so the message itself must stay under 3 MiB, and
    # a little under that leaves room for the request's own overhead.
    max_message_bytes = 3_000_000

    def __init__(self, settings: GraphSettings, state: PositionStore | None = None, tokens: NoTokens | MsalTokens | None = None,
                 session: requests.Session | None = None, clock: Clock | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        """Nothing is requested until the first call. ``state`` keeps the delta link and any long
        wait Graph asked for; ``now`` times that wait."""
        self.settings = settings
        self.state = state if state is not None else MemoryState()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.http = GraphHttp(settings, tokens or make_tokens(settings), session, clock, self.state, self.now)
        self.user = "/users/" + quote(settings.mailbox, safe="@")
        self._processed_id: str | None = None
        # With native_meetings, a meetup flow creates, moves and cancels Outlook events here.
        self.calendar = GraphCalendar(self.http, self.user) if settings.native_meetings else None

    # -- sending ------------------------------------------------------------------------------

    def send(self, mail: Outgoing) -> None:
        """Hand our MIME bytes to ``sendMail``; raise by what the outcome means for the row."""
        url = self.http.url(self.user + "/sendMail")
        try:
            resp = self.http.request("POST", url, throttled=TemporarySendError,
                                     data=base64.b64encode(mail.data), headers={"Content-Type": "text/plain"})
        except TemporarySendError:
            raise
        except requests.RequestException as exc:
            if never_connected(exc):
                raise TemporarySendError(f"cannot connect to Graph: {exc}") from exc
            raise UncertainSendError(f"sendMail: connection lost after the request was sent: {exc}") from exc
        except TransportError as exc:  # no token: nothing left us
            raise TemporarySendError(f"sendMail not tried: {exc}") from exc
        _raise_for_send(resp)

    def find_sent(self, message_id: str) -> bool:
        """Whether Sent Items holds a message with this Message-ID (``internetMessageId``)."""
        wanted = message_id if message_id.startswith("<") else f"<{message_id}>"
        url = self.http.url(self.user + "/mailFolders/sentitems/messages")
        params = {"$filter": f"internetMessageId eq {odata_string(wanted)}", "$select": "id"}
        found = self.http.json("GET", url, "search Sent Items", params=odata_query(params))
        return bool(found.get("value"))

    # -- reading ------------------------------------------------------------------------------

    # -- check --------------------------------------------------------------------------------

    def check(self) -> list[CheckLine]:
        """Sign in, read the inbox and Sent Items, read the send permission; sends nothing."""
        try:
            token = self.http.tokens.token()
        except TransportError as exc:
            return [CheckLine("log in", False, str(exc))]
        s = self.settings
        who = (f"app {s.client_id} signed in to tenant {s.tenant_id}" if token
               else "no sign-in (auth = none, for local test servers only)")
        lines = [CheckLine("log in", True, who),
                 self._check_get("read the inbox", "/mailFolders/inbox",
                                 lambda j: f"{j.get('totalItemCount', '?')} messages waiting in {s.mailbox}"),
                 self._check_get("Sent folder", "/mailFolders/sentitems",
                                 lambda j: "Sent Items can be searched, so uncertain sends are settled"),
                 self._check_role(token, "send", "Mail.Send", "nothing was sent")]
        if s.native_meetings:
            lines.append(self._check_get("calendar", "/calendar", lambda j: f"calendar {j.get('name', '')!r} readable"))
        return lines

    def _check_get(self, what: str, path: str, say: Callable[[dict], str]) -> CheckLine:
        try:
            return CheckLine(what, True, say(self.http.json("GET", self.http.url(self.user + path), what)))
        except TransportError as exc:
            return CheckLine(what, False, str(exc))

    @staticmethod
    def _check_role(token: str | None, what: str, role: str, note: str) -> CheckLine:
        """Whether the app holds a permission, as far as its token (``roles`` claim) can tell.

        Permissions granted in Entra show in the token; ones granted only through Exchange
        RBAC for Applications (scoped to one mailbox) do not, and cannot be seen without using them.
        """
        if token is None:
            return CheckLine(what, True, "not checked: auth = none has no token to read permissions from")
        roles = token_roles(token) or []
        if role in roles:
            return CheckLine(what, True, f"the app holds {role} ({note})")
        family = role.split(".")[0] + "."
        if not any(r.startswith(family) for r in roles):
            return CheckLine(what, True, f"{role} is not in the token: taken to be granted with Exchange "
                             f"RBAC for Applications, which cannot be seen without using it ({note})")
        return CheckLine(what, False, f"the app has other {family}* permissions but not {role}: "
                         "add it as an application permission and grant admin consent")

    def close(self) -> None:
        """Close pooled connections; safe to call twice."""
        self.http.close()


def _raise_for_send(resp: requests.Response) -> None:
    """202 is sent; the rest raise by what they mean for the outbox row."""
    status = resp.status_code
    if status < 300:
        return
    text = describe(resp, "sendMail")
    if status == 413 or error_code(resp) == "ErrorMessageSizeExceeded":
        raise TooLargeError(text)
    if status in PERMANENT_SEND:
        raise PermanentSendError(text)
    if status < 500:  # 401/403/404: our sign-in, permission or mailbox, not this message
        raise TemporarySendError(text)
    # A 5xx other than 503 (handled as throttling) came after Graph had the request.
    raise UncertainSendError(text)


def from_settings(settings: Settings, db: Database | None = None) -> GraphTransport:
    """The transport for ``[graph]`` settings; the delta link is kept in ``db`` when given.

    Refuses (``ConfigError``) what cannot work, before anything is queued for it.
    """
    where = settings.home / "mailer.toml"
    cert = settings.graph_certificate_path
    if cert and not Path(cert).is_absolute():
        cert = str(settings.home / cert)
    graph = GraphSettings(
        mailbox=settings.graph_mailbox or settings.mailer_address, tenant_id=settings.graph_tenant_id,
        client_id=settings.graph_client_id, auth=settings.graph_auth,
        client_secret=settings.graph_client_secret, certificate_path=cert,
        endpoint=settings.graph_endpoint, authority=settings.graph_authority,
        processed_folder=settings.graph_processed_folder, native_meetings=settings.graph_native_meetings)
    for problem in config_problems(graph):
        raise ConfigError(f"{where}: {problem}")
    return GraphTransport(graph, SyncState(db) if db is not None else None)


def config_problems(s: GraphSettings) -> list[str]:
    """What makes these settings unusable, in words naming the key and what was expected."""
    problems = []
    if not s.endpoint.startswith(("https://", "http://")):
        problems.append(f"graph.endpoint = {s.endpoint!r}; expected an https:// URL")
    if s.auth == "none":
        return problems
    if s.endpoint.startswith("http://"):
        problems.append(f"graph.endpoint = {s.endpoint!r}; a token is only ever sent over https://")
    for key in ("tenant_id", "client_id"):
        if not getattr(s, key):
            problems.append(f"graph.{key} is empty; expected the app registration's {key.replace('_', ' ')}")
    if s.auth == "client-secret" and not s.client_secret:
        problems.append("graph.auth = 'client-secret' but MAILER_GRAPH_CLIENT_SECRET is not set")
    if s.auth == "certificate" and not s.certificate_path:
        problems.append("graph.auth = 'certificate' but graph.certificate_path is empty")
    elif s.auth == "certificate":
        try:
            client_credential(s)  # readable, with a private key and its certificate
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
