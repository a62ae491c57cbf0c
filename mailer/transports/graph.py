"""The Microsoft Graph transport: Exchange Online / Microsoft 365 after EWS (notes/graph.md).

- Send: ``POST /users/{mailbox}/sendMail`` with our MIME bytes base64-encoded as
  ``text/plain``, so our Message-ID and headers survive; 202 means accepted, and the copy lands
  in Sent Items. A failure once the request may have arrived (a dropped connection, a 5xx) is
  ``UncertainSendError``; ``find_sent`` then looks for the Message-ID in Sent Items.
- Read: a delta query on the inbox, page by page (``@odata.nextLink``), then each message's
  MIME (``$value``), oldest first; the round's ``@odata.deltaLink`` rides on the last message
  and is saved in the store only once the inbox has kept every message of the round (base.settle),
  so a crash mid-round replays the round, and the inbox's dedupe (transport id, Message-ID) keeps a
  replayed message from acting twice. A link the server refuses (410 Gone,
  ``syncStateNotFound``, ``resyncRequired``) starts a new round the same way.
- File away: ``done`` moves the message to the processed folder (found, or created once);
  Graph gives the moved message a new id, which we never need.
"""
from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Protocol
from urllib.parse import quote, urlencode

import requests
from sqlite_utils import Database
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from mailer.config import Settings
from mailer.errors import ConfigError, PermanentSendError, TemporarySendError, TransportError, UncertainSendError
from mailer.store.sync_state import SyncState
from mailer.transports.base import CheckLine, Fetched, Outgoing
from mailer.transports.graph_calendar import GraphCalendar
from mailer.transports.graph_http import (Clock, GraphHttp, GraphSettings, MsalTokens, NoTokens,
                                          client_credential, describe, error_code, make_tokens,
                                          token_roles)

log = logging.getLogger(__name__)

STATE_KEY = "graph:inbox"
ID_PREFIX = "graph:"
# How Graph says a delta or skip token is no longer valid: 410 Gone with one of these codes
# (some tenants answer 400 with the same codes). Compared without case.
REFUSED_DELTA = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}
PERMANENT_SEND = {400, 413, 415, 422}  # the message itself is refused: it never will be accepted


class PositionStore(Protocol):
    """Where the delta link is kept: ``mailer.store.sync_state.SyncState`` or ``MemoryState``."""

    def get(self, key: str) -> str | None:
        """The saved value."""

    def set(self, key: str, value: str | None, now: datetime) -> None:
        """Save or forget a value."""


class MemoryState:
    """Where the delta link is kept when no database was given (it lasts as long as the process)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        """The saved value."""
        return self.values.get(key)

    def set(self, key: str, value: str | None, now: datetime) -> None:
        """Save or forget a value."""
        if value is None:
            self.values.pop(key, None)
        else:
            self.values[key] = value


def odata_query(params: dict[str, str]) -> str:
    """A query string with spaces as %20: "+" for a space is a form convention OData need not follow."""
    return urlencode(params, quote_via=quote, safe="$,")


def odata_string(value: str) -> str:
    """An OData string literal: in single quotes, a quote inside doubled (OData ABNF, SQUOTE-in-string)."""
    return "'" + value.replace("'", "''") + "'"


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


class GraphTransport:
    """Sends with ``sendMail``, reads with a delta query, files away with ``move``."""

    kind = "graph"
    keeps_sent = True

    def __init__(self, settings: GraphSettings, state: PositionStore | None = None, tokens: NoTokens | MsalTokens | None = None,
                 session: requests.Session | None = None, clock: Clock | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        """Nothing is requested until the first call. ``state`` keeps the delta link."""
        self.settings = settings
        self.state = state if state is not None else MemoryState()
        self.http = GraphHttp(settings, tokens or make_tokens(settings), session, clock)
        self.now = now or (lambda: datetime.now(timezone.utc))
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

    def fetch(self) -> Iterator[Fetched]:
        """Yield the inbox's new messages, oldest first; the last one carries the round's delta
        link as its ``position``, saved by ``commit`` once the inbox has kept them all.

        The round's pages are read first (ids only), because Graph does not promise any order
        across them; then each message's MIME is read as it is handed on, one message ahead,
        so the last one is known when it is handed on. A round with nothing to read saves its
        link at once: no message depends on it.
        """
        items, delta_link = self._delta_round()
        position = self._encode_link(delta_link) if delta_link else None
        ahead: Fetched | None = None
        for item in sorted(items, key=lambda i: str(i.get("receivedDateTime") or "")):
            raw = self._raw(item["id"])
            if raw is None:
                continue
            if ahead is not None:
                yield ahead
            ahead = Fetched(ID_PREFIX + item["id"], raw)
        if ahead is not None:
            yield replace(ahead, position=position)
        elif position is not None:
            self.commit(position)

    def commit(self, position: str) -> None:
        """Save a delta link handed on with a message (``Fetched.position``)."""
        self.state.set(STATE_KEY, position, self.now())

    def _delta_round(self) -> tuple[list[dict], str | None]:
        """Every changed message of one delta round, and the link for the next round."""
        link, restarted, items = self._saved_link(), False, []
        while True:
            page = self._delta_page(link)
            if page is None:
                if restarted:
                    raise TransportError("Graph refused the delta link of a round it had just started")
                log.warning("Graph refused our delta link; reading the inbox again from the start")
                self.state.set(STATE_KEY, None, self.now())
                link, restarted, items = self._first_link(), True, []
                continue
            # "@removed": it left the inbox (we moved it, or someone did): nothing to read.
            items += [i for i in page.get("value", []) if "@removed" not in i and i.get("id")]
            if not page.get("@odata.nextLink"):
                return items, page.get("@odata.deltaLink")
            link = page["@odata.nextLink"]

    def _first_link(self) -> str:
        return self.http.url(self.user + "/mailFolders/inbox/messages/delta") + "?$select=id,internetMessageId,receivedDateTime"

    def _saved_link(self) -> str:
        saved = self.state.get(STATE_KEY)
        try:
            value = json.loads(saved) if saved else {}
        except ValueError:
            value = {}
        link = value.get("link") if isinstance(value, dict) else None
        # A link for another mailbox or endpoint (the settings changed) is not ours to follow.
        if (link and value.get("mailbox") == self.settings.mailbox
                and link.startswith(self.settings.endpoint.rstrip("/") + "/")):
            return link
        return self._first_link()

    def _encode_link(self, link: str) -> str:
        return json.dumps({"mailbox": self.settings.mailbox, "link": link})

    def _delta_page(self, link: str) -> dict | None:
        """One page of the delta round; None when Graph refuses the link (start a new round)."""
        prefer = {"Prefer": f"odata.maxpagesize={self.settings.page_size}"}
        try:
            resp = self.http.request("GET", link, headers=prefer)
        except requests.RequestException as exc:
            raise TransportError(f"read the inbox: cannot reach Graph: {exc}") from exc
        if resp.status_code == 410 or error_code(resp).lower() in REFUSED_DELTA:
            return None
        if resp.status_code >= 300:
            raise TransportError(describe(resp, "read the inbox"))
        try:
            return resp.json()
        except ValueError as exc:
            raise TransportError("read the inbox: Graph answered with something that is not JSON") from exc

    def _raw(self, item_id: str) -> bytes | None:
        """The message's MIME as the server holds it; None when it is gone meanwhile."""
        url = self.http.url(f"{self.user}/messages/{quote(item_id, safe='')}/$value")
        try:
            resp = self.http.request("GET", url)
        except requests.RequestException as exc:
            raise TransportError(f"read a message: cannot reach Graph: {exc}") from exc
        if resp.status_code == 404:
            log.info("message %s left the inbox before we read it", item_id)
            return None
        if resp.status_code >= 300:
            raise TransportError(describe(resp, "read a message"))
        return resp.content

    def done(self, fetched: Fetched) -> None:
        """Move the message to the processed folder (the store already holds it)."""
        item_id = fetched.transport_id.removeprefix(ID_PREFIX)
        cached = self._processed_id is not None
        resp = self._move(item_id, self._processed_folder())
        if resp.status_code >= 300 and cached:
            # The folder we remembered may have been deleted or renamed: look it up once more.
            self._processed_id = None
            resp = self._move(item_id, self._processed_folder())
        if resp.status_code == 404:  # moved already (our earlier move whose answer was lost)
            log.info("message %s was no longer in the inbox to move", item_id)
        elif resp.status_code >= 300:
            raise TransportError(describe(resp, "file away a message"))

    def _move(self, item_id: str, folder_id: str) -> requests.Response:
        url = self.http.url(f"{self.user}/messages/{quote(item_id, safe='')}/move")
        try:
            return self.http.request("POST", url, json={"destinationId": folder_id})
        except requests.RequestException as exc:
            raise TransportError(f"file away a message: cannot reach Graph: {exc}") from exc

    def _processed_folder(self) -> str:
        """The processed folder's id: found by name, else created once (409: someone raced us)."""
        if self._processed_id is None:
            name = self.settings.processed_folder
            found = self._find_folder(name)
            if found is None:
                found = self._create_folder(name)
            self._processed_id = found
        return self._processed_id

    def _find_folder(self, name: str) -> str | None:
        url = self.http.url(self.user + "/mailFolders")
        params = {"$filter": f"displayName eq {odata_string(name)}", "$select": "id,displayName"}
        found = self.http.json("GET", url, f"look up the folder {name!r}", params=odata_query(params))
        return next((f["id"] for f in found.get("value", []) if f.get("displayName") == name), None)

    def _create_folder(self, name: str) -> str:
        url = self.http.url(self.user + "/mailFolders")
        try:
            resp = self.http.request("POST", url, json={"displayName": name})
        except requests.RequestException as exc:
            raise TransportError(f"create the folder {name!r}: cannot reach Graph: {exc}") from exc
        if resp.status_code < 300:
            return resp.json()["id"]
        if resp.status_code == 409 or error_code(resp) == "ErrorFolderExists":
            raced = self._find_folder(name)
            if raced is not None:
                return raced
        raise TransportError(describe(resp, f"create the folder {name!r}"))

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
