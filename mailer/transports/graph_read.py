"""Reading the Graph inbox: a delta query, each message's MIME, and filing it away (notes/graph.md).

The round's ``@odata.deltaLink`` rides on the last message handed on (``Fetched.position``)
and is saved only once the inbox kept every message of the round (``base.settle`` calls
``commit``): a tick killed mid-round reads the round again, and the inbox's dedupe (transport
id, Message-ID) keeps a replayed message from acting twice. A link the server refuses (410
Gone, ``syncStateNotFound``, ``resyncRequired``) starts a new round the same way.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Callable, Iterator, Protocol
from urllib.parse import quote

import requests

from mailer.errors import TransportError
from mailer.transports.base import Fetched
from mailer.transports.graph_http import (GraphHttp, GraphSettings, MemoryWaits, Waits, describe, error_code,
                                          odata_query, odata_string)

log = logging.getLogger(__name__)

STATE_KEY = "graph:inbox"
ID_PREFIX = "graph:"
# How Graph says a delta or skip token is no longer valid: 410 Gone with one of these codes
# (some tenants answer 400 with the same codes). Compared without case.
REFUSED_DELTA = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}


class PositionStore(Waits, Protocol):
    """Where the delta link (and a wait Graph asked for) is kept: ``mailer.store.sync_state.SyncState``
    or ``MemoryState``."""

    def get(self, key: str) -> str | None:
        """The saved value."""

    def set(self, key: str, value: str | None, now: datetime) -> None:
        """Save or forget a value."""


class MemoryState(MemoryWaits):
    """Where the delta link is kept when no database was given (it lasts as long as the process)."""

    def __init__(self) -> None:
        super().__init__()
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


class GraphReading:
    """The inbox side of ``GraphTransport``: ``fetch``, ``commit`` and ``done``."""

    settings: GraphSettings
    http: GraphHttp
    state: PositionStore
    now: Callable[[], datetime]
    user: str
    _processed_id: str | None

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
