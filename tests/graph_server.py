"""A small Microsoft Graph for the tests: one in-memory mailbox over real HTTP on loopback.

It answers the calls the Graph transport makes, the way Graph documents them (notes/graph.md):
``sendMail`` with base64 MIME, ``$filter`` on ``internetMessageId`` and ``displayName``,
the inbox delta query with ``Prefer: odata.maxpagesize`` paging, ``@odata.nextLink`` and
``@odata.deltaLink``, ``$value``, ``move`` (the moved message gets a NEW id, as in real Graph),
folder creation with 409 ``ErrorFolderExists``, events for native meetings, and the sign-in
authority of tests/graph_signin.py (client credentials, as msal asks for them).

Test-only endpoints under ``/_test/`` (and the ``GraphServer`` methods that call them):
deliver a raw message, throttle the next N requests (429/503 + ``Retry-After``), accept the
next send and then drop the connection, expire every delta and skip token, revoke tokens.
"""
from __future__ import annotations

import base64
import email
import email.policy
import itertools
import json
import re
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.graph_signin import TENANT, sign_in

WELL_KNOWN = {"inbox": "Inbox", "sentitems": "Sent Items"}
_FILTER = re.compile(r"^(\w+) eq '((?:[^']|'')*)'$")


@dataclass
class Item:
    """One message in a folder; ``seq`` is when it arrived there (for delta rounds)."""

    id: str
    folder: str
    raw: bytes
    internet_message_id: str
    seq: int


@dataclass
class Mailbox:
    """Everything the server holds; one lock guards it."""

    address: str
    auth_required: bool = False
    roles: list[str] = field(default_factory=lambda: ["Mail.Send", "Mail.ReadWrite"])
    token_lifetime: int = 3600
    certificate_pem: bytes | None = None  # the app's certificate, for assertion sign-in
    lock: threading.RLock = field(default_factory=threading.RLock)
    folders: dict[str, str] = field(default_factory=dict)  # id -> displayName
    items: dict[str, Item] = field(default_factory=dict)
    removed: list[tuple[int, str]] = field(default_factory=list)  # (seq, id) left the inbox
    delta_tokens: dict[str, int] = field(default_factory=dict)
    skip_tokens: dict[str, list[tuple[list[dict], int]]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    throttle: list[Any] = field(default_factory=lambda: [0, 0, 429])  # count, retry_after, status
    drop_sends: int = 0
    max_request: int = 4 * 1024 * 1024  # Graph refuses a larger request body with 413
    hide_folders_once: bool = False
    events: dict[str, dict] = field(default_factory=dict)
    fail_events: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)  # (method, decoded path) of Graph calls
    token_requests: int = 0
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        for name in WELL_KNOWN:
            self.folders[self.folder_id(name)] = WELL_KNOWN[name]

    def next(self) -> int:
        """The next change number (also used to make ids)."""
        return next(self.counter)

    @staticmethod
    def folder_id(name: str) -> str:
        """The opaque id of a well-known folder."""
        return f"AQMkFolder/{name}="

    def resolve(self, name_or_id: str) -> str | None:
        """A folder id from a well-known name or an id."""
        if name_or_id.lower() in WELL_KNOWN:
            return self.folder_id(name_or_id.lower())
        return name_or_id if name_or_id in self.folders else None

    def new_id(self) -> str:
        """Ids as opaque as Graph's, with '/', '+' and '=' to prove the client quotes them."""
        return f"AAMk+{self.next()}/{secrets.token_hex(6)}="

    def add(self, folder: str, raw: bytes) -> Item:
        """Put a message in a folder, as a new arrival."""
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        mid = (msg.get("Message-ID") or f"<{secrets.token_hex(8)}@graph.test>").strip()
        item = Item(self.new_id(), self.resolve(folder) or folder, raw, mid, self.next())
        self.items[item.id] = item
        return item

    def in_folder(self, name: str) -> list[Item]:
        """The messages of a folder, oldest first."""
        fid = self.resolve(name)
        return sorted((i for i in self.items.values() if i.folder == fid), key=lambda i: i.seq)


class GraphError(Exception):
    """An error answer: status, Graph's code and message."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Handler(BaseHTTPRequestHandler):
    """Routes each request to the mailbox; every answer has a Content-Length (keep-alive)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        parts = [unquote(p) for p in split.path.split("/")[1:]]
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        box = self.server.box
        try:
            with box.lock:
                answer = route(self, box, method, parts, query, body)
        except GraphError as exc:
            answer = (exc.status, {"error": {"code": exc.code, "message": exc.message}}, {})
        if answer is None:  # accepted, then the connection dropped without an answer
            self.close_connection = True
            return
        self._reply(*answer)

    def _reply(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        content_type = "text/plain" if isinstance(payload, bytes) else "application/json"
        for name, value in {"Content-Type": content_type, **headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def base(self) -> str:
        """This server's own URL, as the client reached it."""
        return f"http://{self.headers.get('Host')}"


def route(h: Handler, box: Mailbox, method: str, parts: list[str], query: dict, body: bytes):
    """Answer one request: (status, JSON or bytes, headers), or None to drop the connection."""
    if parts[0] == "_test":
        return test_endpoint(box, parts[1], query, body)
    if parts[0] == TENANT:
        return sign_in(h, box, parts[1:], body)
    if parts[:2] != ["v1.0", "users"] or len(parts) < 4:
        raise GraphError(400, "BadRequest", f"unsupported path /{'/'.join(parts)}")
    if box.throttle[0] > 0:
        box.throttle[0] -= 1
        return box.throttle[2], {"error": {"code": "TooManyRequests", "message": "throttled"}}, {
            "Retry-After": str(box.throttle[1])}
    authorise(h, box)
    if parts[2].lower() != box.address.lower():
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{parts[2]}' is invalid.")
    box.log.append((method, "/".join(parts[3:])))
    return mailbox_call(h, box, method, parts[3:], query, body)


def authorise(h: Handler, box: Mailbox) -> None:
    """401 unless the bearer token is one we issued and it has not expired or been revoked."""
    if not box.auth_required:
        return
    token = (h.headers.get("Authorization") or "").removeprefix("Bearer ")
    if box.tokens.get(token, 0) < time.time():
        raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")


def mailbox_call(h: Handler, box: Mailbox, method: str, p: list[str], query: dict, body: bytes):
    """The /users/{mailbox}/… calls."""
    if (method, p) == ("POST", ["sendMail"]):
        return send_mail(h, box, body)
    if p == ["mailFolders"]:
        return list_folders(box, query) if method == "GET" else create_folder(box, body)
    if method == "GET" and p == ["calendar"]:
        return 200, {"id": "AAMkCal=", "name": "Calendar"}, {}
    if p[0] == "events":
        return event_call(box, method, p[1:], json.loads(body or b"{}"))
    if p[0] == "mailFolders" and box.resolve(p[1]) is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified folder could not be found.")
    if method == "GET" and p[0] == "mailFolders" and len(p) == 2:
        fid = box.resolve(p[1])
        return 200, {"id": fid, "displayName": box.folders[fid], "totalItemCount": len(box.in_folder(fid))}, {}
    if method == "GET" and p[0] == "mailFolders" and p[2:] == ["messages"]:
        return 200, {"value": filtered_messages(box, p[1], query)}, {}
    if method == "GET" and p[0] == "mailFolders" and p[2:] == ["messages", "delta"]:
        return delta(h, box, p[1], query)
    if p[0] == "messages" and len(p) == 3:
        item = box.items.get(p[1])
        if item is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if method == "GET" and p[2] == "$value":
            return 200, item.raw, {}
        if method == "POST" and p[2] == "move":
            return move(box, item, json.loads(body or b"{}"))
    raise GraphError(400, "BadRequest", f"unsupported call {method} {'/'.join(p)}")


def send_mail(h: Handler, box: Mailbox, body: bytes):
    """sendMail with MIME: base64 text/plain; the copy lands in Sent Items; 202, no body."""
    if not (h.headers.get("Content-Type") or "").startswith("text/plain"):
        raise GraphError(400, "ErrorMimeContentInvalid", "expected base64 MIME as text/plain here")
    if len(body) > box.max_request:
        raise GraphError(413, "RequestEntityTooLarge", f"the request body is over {box.max_request} bytes")
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raise GraphError(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
    box.add("sentitems", raw)
    if box.drop_sends > 0:
        box.drop_sends -= 1
        return None
    return 202, None, {}


def event_call(box: Mailbox, method: str, p: list[str], body: dict):
    """Events: create (a repeated transactionId gives the same event), read, PATCH, cancel."""
    if box.fail_events > 0:
        box.fail_events -= 1
        raise GraphError(500, "ErrorInternalServerError", "An internal server error occurred.")
    if method == "POST" and not p:
        if len(body.get("attendees", [])) > 500:
            raise GraphError(400, "ErrorInvalidRequest", "too many attendees")
        same = [e for e in box.events.values() if body.get("transactionId") and
                e.get("transactionId") == body["transactionId"]]
        event = same[0] if same else {**body, "id": box.new_id(), "isCancelled": False,
                                      "iCalUId": f"040000008200E00074C5B7101A82E008{box.next():016X}"}
        for attendee in event["attendees"]:
            attendee.setdefault("status", {"response": "none"})
        box.events[event["id"]] = event
        return 201, event, {}
    event = box.events.get(p[0]) if p else None
    if event is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    if method == "GET" and len(p) == 1:
        return 200, event, {}
    if method == "PATCH" and len(p) == 1:
        answers = {a["emailAddress"]["address"]: a.get("status") for a in event["attendees"]}
        event.update(body)
        for attendee in event["attendees"]:  # people still invited keep their answer
            attendee["status"] = answers.get(attendee["emailAddress"]["address"]) or {"response": "none"}
        return 200, event, {}
    if method == "POST" and p[1:] == ["cancel"]:
        event["isCancelled"], event["cancelComment"] = True, body.get("comment", "")
        return 202, None, {}
    raise GraphError(400, "BadRequest", f"unsupported call {method} events/{'/'.join(p)}")


def parse_filter(query: dict) -> tuple[str, str] | None:
    """(property, value) of ``$filter=prop eq 'value'`` with doubled quotes undone."""
    text = query.get("$filter")
    if text is None:
        return None
    match = _FILTER.match(text)
    if not match:
        raise GraphError(400, "ErrorInvalidUrlQueryFilter", f"cannot parse $filter {text!r}")
    return match.group(1), match.group(2).replace("''", "'")


def filtered_messages(box: Mailbox, folder: str, query: dict) -> list[dict]:
    """A folder's messages, narrowed by ``internetMessageId eq '…'``."""
    wanted = parse_filter(query)
    if wanted is not None and wanted[0] != "internetMessageId":
        raise GraphError(400, "ErrorInvalidProperty", f"cannot filter on {wanted[0]}")
    return [{"id": i.id, "internetMessageId": i.internet_message_id} for i in box.in_folder(folder)
            if wanted is None or i.internet_message_id == wanted[1]]


def list_folders(box: Mailbox, query: dict):
    """Top-level folders, narrowed by ``displayName eq '…'``."""
    wanted = parse_filter(query)
    if box.hide_folders_once:  # another worker creates it right after our look-up
        box.hide_folders_once = False
        return 200, {"value": []}, {}
    value = [{"id": fid, "displayName": name} for fid, name in box.folders.items()
             if wanted is None or name == wanted[1]]
    return 200, {"value": value}, {}


def create_folder(box: Mailbox, body: bytes):
    """A new top-level folder; 409 ErrorFolderExists when the name is taken."""
    name = json.loads(body or b"{}").get("displayName", "")
    if name in box.folders.values():
        raise GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    fid = f"AQMkFolder/{box.next()}="
    box.folders[fid] = name
    return 201, {"id": fid, "displayName": name}, {}


def move(box: Mailbox, item: Item, body: dict):
    """Move to ``destinationId``; like real Graph, the message gets a new id."""
    dest = box.resolve(str(body.get("destinationId", "")))
    if dest is None:
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
    if item.folder == box.folder_id("inbox"):
        box.removed.append((box.next(), item.id))
    del box.items[item.id]
    moved = Item(box.new_id(), dest, item.raw, item.internet_message_id, box.next())
    box.items[moved.id] = moved
    return 201, {"id": moved.id, "parentFolderId": dest, "internetMessageId": moved.internet_message_id}, {}


def delta(h: Handler, box: Mailbox, folder: str, query: dict):
    """One page of a delta round: a new round, a $deltatoken round, or a $skiptoken page."""
    if folder.lower() != "inbox":
        raise GraphError(400, "BadRequest", "this server keeps delta for the inbox only")
    if "$skiptoken" in query:
        pages = box.skip_tokens.pop(query["$skiptoken"], None)
        if pages is None:
            raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
        changes, upto = pages[0]
    else:
        changes, upto = round_changes(box, query)
    size = max_page_size(h)
    page, rest = changes[:size], changes[size:]
    link = f"{h.base()}/v1.0/users/{quote(box.address, safe='@')}/mailFolders/inbox/messages/delta"
    answer: dict[str, Any] = {"value": page}
    if rest:
        skip = secrets.token_hex(8)
        box.skip_tokens[skip] = [(rest, upto)]
        answer["@odata.nextLink"] = f"{link}?$skiptoken={skip}"
    else:
        token = secrets.token_hex(8)
        box.delta_tokens[token] = upto
        answer["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
    return 200, answer, {"Preference-Applied": f"odata.maxpagesize={size}"}


def round_changes(box: Mailbox, query: dict) -> tuple[list[dict], int]:
    """What changed in the inbox since the round's token (everything, for a new round)."""
    since = 0
    if "$deltatoken" in query:
        if query["$deltatoken"] not in box.delta_tokens:
            raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
        since = box.delta_tokens[query["$deltatoken"]]
    upto = box.next()
    # Newest first, as nothing in Graph promises an order: the client must sort.
    changes = [{"id": i.id, "internetMessageId": i.internet_message_id, "receivedDateTime": received(i)}
               for i in reversed(box.in_folder("inbox")) if since < i.seq <= upto]
    if since:
        changes += [{"id": rid, "@removed": {"reason": "deleted"}} for seq, rid in box.removed if since < seq <= upto]
    return changes, upto


def received(item: Item) -> str:
    """``receivedDateTime``: one second per change number, from a fixed start."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_798_000_000 + item.seq))


def max_page_size(h: Handler) -> int:
    """``Prefer: odata.maxpagesize=N`` (Graph's default for messages is 10)."""
    match = re.search(r"odata\.maxpagesize=(\d+)", h.headers.get("Prefer") or "")
    return max(int(match.group(1)), 1) if match else 10


def test_endpoint(box: Mailbox, name: str, query: dict, body: bytes):
    """The test-only controls."""
    if name == "deliver":
        return 201, {"id": box.add("inbox", body).id}, {}
    if name == "throttle":
        box.throttle[:] = [int(query["count"]), int(query["retry_after"]), int(query.get("status", 429))]
    elif name == "drop_next_send":
        box.drop_sends += 1
    elif name == "expire_delta":
        box.delta_tokens.clear()
        box.skip_tokens.clear()
    elif name == "respond":
        for attendee in box.events[query["event"]]["attendees"]:
            if attendee["emailAddress"]["address"] == query["attendee"]:
                attendee["status"] = {"response": query["response"],
                                      "time": query.get("time", "2027-01-01T09:00:00.0000000")}
    elif name == "fail_events":
        box.fail_events += int(query["count"])
    elif name == "revoke_tokens":
        box.tokens.clear()
    else:
        raise GraphError(404, "not_found", name)
    return 204, None, {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    box: Mailbox


class GraphServer:
    """The server on 127.0.0.1 in a thread, its mailbox, and the test-only calls."""

    def __init__(self, address: str = "cop@example.test", **options: Any) -> None:
        self.box = Mailbox(address, **options)
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.box = self.box
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.endpoint = f"{self.base}/v1.0"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "GraphServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _control(self, name: str, body: bytes = b"", **query: Any) -> bytes:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        req = urllib.request.Request(f"{self.base}/_test/{name}?{params}", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read()

    def deliver(self, raw: bytes) -> str:
        """Put a raw message in the inbox; its Graph id."""
        return json.loads(self._control("deliver", raw))["id"]

    def throttle(self, count: int, retry_after: int, status: int = 429) -> None:
        """Answer the next ``count`` Graph calls with ``status`` and ``Retry-After``."""
        self._control("throttle", count=count, retry_after=retry_after, status=status)

    def drop_next_send(self) -> None:
        """Accept the next sendMail (the copy lands in Sent Items), then drop the connection."""
        self._control("drop_next_send")

    def expire_delta(self) -> None:
        """Forget every delta and skip token (Graph's 410 SyncStateNotFound from now on)."""
        self._control("expire_delta")

    def respond(self, event_id: str, attendee: str, response: str, time: str = "2027-01-01T09:00:00.0000000") -> None:
        """An attendee answers the event in their calendar (accepted, declined, …) at ``time`` (UTC)."""
        self._control("respond", event=quote(event_id, safe=""), attendee=quote(attendee), response=response,
                      time=quote(time))

    def fail_events(self, count: int = 1) -> None:
        """Answer the next ``count`` calendar calls with 500 (an Exchange Online hiccup)."""
        self._control("fail_events", count=count)

    def revoke_tokens(self) -> None:
        """Refuse every token issued so far (401)."""
        self._control("revoke_tokens")

    def sent(self) -> list[bytes]:
        """The raw messages in Sent Items, oldest first."""
        with self.box.lock:
            return [i.raw for i in self.box.in_folder("sentitems")]

    def folder(self, name: str) -> list[Item]:
        """The messages in a folder given by display name or well-known name."""
        with self.box.lock:
            fid = self.box.resolve(name) or next((f for f, n in self.box.folders.items() if n == name), None)
            return self.box.in_folder(fid) if fid else []
