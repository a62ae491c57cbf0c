"""A small EWS (Exchange Web Services) server for tests: real SOAP over real HTTP, mailbox in memory.

No installable server speaks EWS, so the Exchange transport is tested against this one through
exchangelib itself. It answers the operations the transport sends (GetFolder, FindFolder,
CreateFolder, CreateItem with SendAndSaveCopy, SyncFolderItems, GetItem, MoveItem, FindItem) and
those of native meetings (CreateItem of a t:CalendarItem or t:CancelCalendarItem, UpdateItem,
FindItem with a CalendarView, GetItem of a calendar item; the meeting itself is modelled in
tests/ews_calendar.py) the way Exchange documents them: a ``ServerVersionInfo`` SOAP header on
every answer, one ``<m:{Op}ResponseMessage ResponseClass="Success">`` with
``<m:ResponseCode>NoError`` per item, an error code in the same shape when something is wrong,
and ErrorServerBusy as a SOAP fault carrying ``BackOffMilliseconds`` (the shape Exchange Online
throttling answers with).

Test hooks, as methods on ``EwsServer`` and as test-only HTTP endpoints beside the EWS one
(``POST /_test/deliver`` with the raw message as body, ``/_test/busy?times=N&ms=M``,
``/_test/fail_after_send?times=N``, ``/_test/invalidate_sync_states``,
``/_test/respond?item=ID&address=A&response=Accept``): deliver a raw message (or a meeting
response) into the inbox, answer the next N requests with ErrorServerBusy, carry out the next send
(a message, or a calendar item with its invitations) and then drop the connection without an
answer, refuse every sync state handed out, record an attendee's answer on a calendar item. The
meeting mail Exchange would send is logged in ``EwsServer.meeting_mail``. It proves our code and
the wire contract, not Exchange's own behaviour; the opt-in live test covers that.
"""
from __future__ import annotations

import base64
import email
import email.policy
import itertools
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from tests.ews_calendar import CalendarEntry, MeetingMail, ews_time, invitation_mail, overlaps, update_mail

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NSMAP = {"s": S, "m": M, "t": T}
DISTINGUISHED = {"root": ("", None, ""),
                 "msgfolderroot": ("Top of Information Store", "root", "IPF.Note"),
                 "inbox": ("Inbox", "msgfolderroot", "IPF.Note"),
                 "sentitems": ("Sent Items", "msgfolderroot", "IPF.Note"),
                 "drafts": ("Drafts", "msgfolderroot", "IPF.Note"),
                 "deleteditems": ("Deleted Items", "msgfolderroot", "IPF.Note"),
                 "calendar": ("Calendar", "msgfolderroot", "IPF.Appointment")}


def q(ns: str, tag: str) -> str:
    """Clark notation for lxml: ``{namespace}tag``."""
    return f"{{{ns}}}{tag}"


class EwsError(Exception):
    """An EWS error code answered inside a response message (ResponseClass="Error")."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(code)
        self.code, self.text = code, text or code


@dataclass
class Item:
    """One mailbox item: its MIME bytes and the few properties the operations look at."""

    id: str
    mime: bytes
    message_id: str
    subject: str
    tag: str = "Message"  # the element name picks exchangelib's class: Message, MeetingResponse, ...
    change: int = 1
    calendar: CalendarEntry | None = None  # set on a CalendarItem

    @property
    def changekey(self) -> str:
        return f"CK{self.change}"


@dataclass
class Folder:
    """A folder with its items and a change log for SyncFolderItems."""

    id: str
    name: str
    parent: str | None
    folder_class: str = "IPF.Note"
    distinguished: str | None = None
    items: dict[str, Item] = field(default_factory=dict)
    log: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, "add"/"remove", item id)


class Mailbox:
    """Folders by id, distinguished names, and the sync-state generation."""

    def __init__(self) -> None:
        self.folders: dict[str, Folder] = {}
        self.seq = itertools.count(1)
        self.ids = itertools.count(1)
        self.generation = 1
        for name, (display, parent, cls) in DISTINGUISHED.items():
            fid = f"F-{name}"
            self.folders[fid] = Folder(fid, display, parent and f"F-{parent}", cls, name)

    def folder(self, ref: str) -> Folder:
        """A folder by id or distinguished name."""
        found = self.folders.get(ref) or self.folders.get(f"F-{ref}")
        if found is None:
            raise EwsError("ErrorFolderNotFound", f"no folder {ref}")
        return found

    def add(self, folder: Folder, mime: bytes, tag: str = "Message") -> Item:
        """File ``mime`` as a new item (a new id, as Exchange gives on every move)."""
        msg = email.message_from_bytes(mime, policy=email.policy.compat32)
        return self.file(folder, Item("", mime, str(msg.get("Message-ID", "")).strip(),
                                      str(msg.get("Subject", "")), tag))

    def file(self, folder: Folder, item: Item) -> Item:
        """Put an item into a folder under a new id."""
        item.id = f"I-{next(self.ids)}"
        folder.items[item.id] = item
        folder.log.append((next(self.seq), "add", item.id))
        return item

    def remove(self, item_id: str) -> tuple[Folder, Item]:
        """Take an item out of whichever folder holds it."""
        for folder in self.folders.values():
            if item_id in folder.items:
                item = folder.items.pop(item_id)
                folder.log.append((next(self.seq), "remove", item_id))
                return folder, item
        raise EwsError("ErrorItemNotFound", f"no item {item_id}")

    def changes(self, folder: Folder, since: int, limit: int) -> tuple[list[tuple[str, str]], int, bool]:
        """Net changes after ``since``: ("create"|"delete", item id), the new position, and whether all came."""
        added_before = {i for s, kind, i in folder.log if s <= since and kind == "add"}
        out: list[tuple[int, str, str]] = []
        for seq, kind, item_id in folder.log:
            if seq <= since:
                continue
            if kind == "add" and item_id in folder.items:
                out.append((seq, "create", item_id))
            elif kind == "remove" and item_id in added_before:
                out.append((seq, "delete", item_id))
        last = folder.log[-1][0] if folder.log else since
        if len(out) > limit:
            return [(k, i) for _, k, i in out[:limit]], out[limit - 1][0], False
        return [(k, i) for _, k, i in out], max(last, since), True

    def sync_state(self, folder: Folder, position: int) -> str:
        return base64.b64encode(f"{folder.id}|{self.generation}|{position}".encode()).decode()

    def parse_sync_state(self, folder: Folder, text: str | None) -> int:
        if not text:
            return 0
        try:
            fid, generation, position = base64.b64decode(text).decode().split("|")
        except ValueError as exc:
            raise EwsError("ErrorInvalidSyncStateData", "The sync state is not valid.") from exc
        if fid != folder.id or int(generation) != self.generation:
            raise EwsError("ErrorInvalidSyncStateData", "The sync state is not valid.")
        return int(position)


class EwsServer:
    """The server and its mailbox; ``url`` is the EWS endpoint to give exchangelib."""

    def __init__(self, address: str = "cop@corp.example.com") -> None:
        self.address = address
        self.mailbox = Mailbox()
        self.lock = threading.RLock()
        self.requests: list[str] = []  # the SOAP operation of every request, in order
        self.sent: list[bytes] = []  # MIME of every message sent (what left the mailbox)
        self.meeting_mail: list[MeetingMail] = []  # invitations, updates and cancellations Exchange sent
        self._busy: list[int] = []  # back-off hints (ms) for the next requests
        self._fail_sends = 0
        handler = type("Handler", (_Handler,), {"ews": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/EWS/Exchange.asmx"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self) -> "EwsServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- test hooks --------------------------------------------------------------------------
    def deliver(self, raw: bytes, folder: str = "inbox", tag: str = "Message") -> str:
        """Put a raw message into a folder as if it had arrived; return its item id.

        ``tag="MeetingResponse"`` delivers it as Exchange files an attendee's answer to a meeting
        request (IPM.Schedule.Meeting.Resp.*), which exchangelib reads as a MeetingResponse.
        """
        with self.lock:
            return self.mailbox.add(self.mailbox.folder(folder), raw, tag).id

    def busy(self, times: int = 1, back_off_ms: int = 60_000) -> None:
        """Answer the next ``times`` requests with ErrorServerBusy and this back-off hint."""
        with self.lock:
            self._busy += [back_off_ms] * times

    def fail_after_send(self, times: int = 1) -> None:
        """The next sends are carried out, then the connection drops before any answer."""
        with self.lock:
            self._fail_sends += times

    def invalidate_sync_states(self) -> None:
        """Every sync state handed out so far is refused with ErrorInvalidSyncStateData."""
        with self.lock:
            self.mailbox.generation += 1

    def respond(self, item_id: str, address: str, response: str, at: str = "2027-01-01T09:00:00Z") -> None:
        """Record an attendee's answer (ResponseType ``Accept``, ``Decline``, ``Tentative``) on a calendar item."""
        with self.lock:
            entry = _find_item(self.mailbox, item_id).calendar
            entry.respond(address, response, ews_time(at))

    def calendar(self, item_id: str) -> CalendarEntry:
        """The meeting a calendar item holds."""
        with self.lock:
            return _find_item(self.mailbox, item_id).calendar

    def items(self, folder: str) -> list[Item]:
        """What a folder holds now."""
        with self.lock:
            return list(self.mailbox.folder(folder).items.values())

    def folder_named(self, name: str) -> Folder | None:
        with self.lock:
            return next((f for f in self.mailbox.folders.values() if f.name == name), None)

    def take_busy(self) -> int | None:
        with self.lock:
            return self._busy.pop(0) if self._busy else None

    def take_fail_send(self) -> bool:
        with self.lock:
            if self._fail_sends:
                self._fail_sends -= 1
                return True
            return False


class _Drop(Exception):
    """Close the connection without answering (a send that timed out after the server acted)."""


class _Handler(BaseHTTPRequestHandler):
    ews: EwsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet in tests
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/_test/"):
            return self._test_hook(body)
        root = etree.fromstring(body)
        version = root.find(f"{q(S, 'Header')}/{q(T, 'RequestServerVersion')}")
        request = root.find(q(S, "Body"))[0]
        op = etree.QName(request).localname
        self.ews.requests.append(op)
        api = version.get("Version") if version is not None else "Exchange2016"
        back_off = self.ews.take_busy()
        if back_off is not None:
            return self._answer(500, _fault_busy(api, back_off))
        if op not in OPERATIONS:
            return self._answer(200, _envelope(api, op, [_message(op, "ErrorInvalidOperationType", op)]))
        try:
            with self.ews.lock:
                messages = OPERATIONS[op](self.ews, request)
        except _Drop:
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        except Exception:  # a bug in this server: say so loudly rather than leave the client waiting
            traceback.print_exc()
            return self._answer(500, b"test EWS server failed; see the traceback")
        self._answer(200, _envelope(api, op, messages))

    def _test_hook(self, body: bytes) -> None:
        """The test-only endpoints: the same hooks as EwsServer's methods, over HTTP."""
        url = urlsplit(self.path)
        args = {k: v[0] for k, v in parse_qs(url.query).items()}
        name = url.path.removeprefix("/_test/")
        if name == "deliver":
            answer = self.ews.deliver(body, args.get("folder", "inbox"), args.get("tag", "Message"))
        elif name == "busy":
            answer = self.ews.busy(int(args.get("times", 1)), int(args.get("ms", 60_000)))
        elif name == "fail_after_send":
            answer = self.ews.fail_after_send(int(args.get("times", 1)))
        elif name == "invalidate_sync_states":
            answer = self.ews.invalidate_sync_states()
        elif name == "respond":
            answer = self.ews.respond(args["item"], args["address"], args["response"],
                                      args.get("at", "2027-01-01T09:00:00Z"))
        else:
            return self._answer(404, f"no test hook {name}".encode())
        self._answer(200, str(answer or "ok").encode())

    def _answer(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# -- response building ---------------------------------------------------------------------
def _header(api: str) -> etree._Element:
    header = etree.Element(q(S, "Header"))
    etree.SubElement(header, q(T, "ServerVersionInfo"), MajorVersion="15", MinorVersion="1",
                     MajorBuildNumber="2507", MinorBuildNumber="6", Version=api)
    return header


def _envelope(api: str, op: str, messages: list[etree._Element]) -> bytes:
    env = etree.Element(q(S, "Envelope"), nsmap=NSMAP)
    env.append(_header(api))
    response = etree.SubElement(etree.SubElement(env, q(S, "Body")), q(M, f"{op}Response"))
    container = etree.SubElement(response, q(M, "ResponseMessages"))
    container.extend(messages)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def _fault_busy(api: str, back_off_ms: int) -> bytes:
    env = etree.Element(q(S, "Envelope"), nsmap=NSMAP)
    env.append(_header(api))
    fault = etree.SubElement(etree.SubElement(env, q(S, "Body")), q(S, "Fault"))
    etree.SubElement(fault, "faultcode").text = "a:ErrorServerBusy"
    etree.SubElement(fault, "faultstring").text = "The server cannot service this request right now."
    detail = etree.SubElement(fault, "detail")
    etree.SubElement(detail, q(E, "ResponseCode")).text = "ErrorServerBusy"
    etree.SubElement(detail, q(E, "Message")).text = "The server cannot service this request right now."
    xml = etree.SubElement(detail, q(T, "MessageXml"))
    etree.SubElement(xml, q(T, "Value"), Name="BackOffMilliseconds").text = str(back_off_ms)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def _message(op: str, code: str = "NoError", text: str = "") -> etree._Element:
    ok = code == "NoError"
    msg = etree.Element(q(M, f"{op}ResponseMessage"), ResponseClass="Success" if ok else "Error")
    if not ok:
        etree.SubElement(msg, q(M, "MessageText")).text = text
    etree.SubElement(msg, q(M, "ResponseCode")).text = code
    if not ok:
        etree.SubElement(msg, q(M, "DescriptiveLinkKey")).text = "0"
    return msg


def _each(op: str, refs: list, answer) -> list[etree._Element]:
    """One response message per requested thing; an EwsError becomes that thing's error message."""
    out = []
    for ref in refs:
        try:
            out.append(answer(ref))
        except EwsError as exc:
            out.append(_message(op, exc.code, exc.text))
    return out


def _folder_xml(parent: etree._Element, folder: Folder, box: Mailbox) -> None:
    tag = "CalendarFolder" if folder.folder_class == "IPF.Appointment" else "Folder"
    elem = etree.SubElement(parent, q(T, tag))
    etree.SubElement(elem, q(T, "FolderId"), Id=folder.id, ChangeKey="FCK1")
    if folder.parent:
        etree.SubElement(elem, q(T, "ParentFolderId"), Id=folder.parent, ChangeKey="FCK1")
    etree.SubElement(elem, q(T, "FolderClass")).text = folder.folder_class
    etree.SubElement(elem, q(T, "DisplayName")).text = folder.name
    etree.SubElement(elem, q(T, "TotalCount")).text = str(len(folder.items))
    children = sum(1 for f in box.folders.values() if f.parent == folder.id)
    etree.SubElement(elem, q(T, "ChildFolderCount")).text = str(children)
    if folder.distinguished:
        etree.SubElement(elem, q(T, "DistinguishedFolderId")).text = folder.distinguished


def _item_xml(parent: etree._Element, item: Item, mime: bool = False, fields: bool = False) -> None:
    elem = etree.SubElement(parent, q(T, item.tag))
    if mime:
        content = etree.SubElement(elem, q(T, "MimeContent"), CharacterSet="UTF-8")
        content.text = base64.b64encode(item.mime).decode()
    etree.SubElement(elem, q(T, "ItemId"), Id=item.id, ChangeKey=item.changekey)
    if fields and item.calendar is not None:
        item.calendar.to_xml(elem)
    elif fields:
        etree.SubElement(elem, q(T, "Subject")).text = item.subject
        etree.SubElement(elem, q(T, "InternetMessageId")).text = item.message_id


def _folder_ref(elem: etree._Element) -> str:
    """A FolderId's Id or a DistinguishedFolderId's name."""
    return elem.get("Id")


def _refs(request: etree._Element, path: str) -> list[str]:
    container = request.find(path)
    return [_folder_ref(e) for e in container] if container is not None else []


# -- operations ------------------------------------------------------------------------------
def get_folder(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    box = ews.mailbox

    def answer(ref: str) -> etree._Element:
        msg = _message("GetFolder")
        _folder_xml(etree.SubElement(msg, q(M, "Folders")), box.folder(ref), box)
        return msg
    return _each("GetFolder", _refs(request, q(M, "FolderIds")), answer)


def find_folder(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    box = ews.mailbox
    constant = request.find(f".//{q(T, 'Constant')}")  # the one restriction we send: DisplayName equals
    wanted = constant.get("Value") if constant is not None else None

    def answer(ref: str) -> etree._Element:
        parent = box.folder(ref)
        found = [f for f in box.folders.values() if f.parent == parent.id and wanted in (None, f.name)]
        msg = _message("FindFolder")
        root = etree.SubElement(msg, q(M, "RootFolder"), TotalItemsInView=str(len(found)),
                                IncludesLastItemInRange="true", IndexedPagingOffset=str(len(found)))
        folders = etree.SubElement(root, q(T, "Folders"))
        for f in found:
            _folder_xml(folders, f, box)
        return msg
    return _each("FindFolder", _refs(request, q(M, "ParentFolderIds")), answer)


def create_folder(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    box = ews.mailbox
    parent = box.folder(_refs(request, q(M, "ParentFolderId"))[0])
    out = []
    for elem in request.find(q(M, "Folders")):
        name = elem.findtext(q(T, "DisplayName"))
        if any(f.parent == parent.id and f.name == name for f in box.folders.values()):
            out.append(_message("CreateFolder", "ErrorFolderExists", "A folder with that name exists."))
            continue
        folder = Folder(f"F-{next(box.ids)}", name, parent.id)
        box.folders[folder.id] = folder
        msg = _message("CreateFolder")
        folders = etree.SubElement(msg, q(M, "Folders"))
        created = etree.SubElement(folders, q(T, "Folder"))
        etree.SubElement(created, q(T, "FolderId"), Id=folder.id, ChangeKey="FCK1")
        out.append(msg)
    return out


def create_item(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    """CreateItem: a message sent from our own MIME, a calendar item, or a meeting's cancellation."""
    saved = _refs(request, q(M, "SavedItemFolderId"))
    makers = {"Message": _send_message, "CalendarItem": _create_meeting, "CancelCalendarItem": _cancel_meeting}
    out = []
    for elem in request.find(q(M, "Items")):
        maker = makers.get(etree.QName(elem).localname)
        try:
            if maker is None:
                raise EwsError("ErrorInvalidRequest", f"this test server cannot create {etree.QName(elem).localname}")
            made = maker(ews, request, elem, saved[0] if saved else None)
        except EwsError as exc:
            out.append(_message("CreateItem", exc.code, exc.text))
            continue
        if ews.take_fail_send():  # carried out; the answer is lost
            raise _Drop
        msg = _message("CreateItem")
        items = etree.SubElement(msg, q(M, "Items"))
        if made is not None:  # a saved item's id comes back; a sent one's does not
            _item_xml(items, made)
        out.append(msg)
    return out


def _send_message(ews: EwsServer, request: etree._Element, elem: etree._Element, folder: str | None) -> None:
    if request.get("MessageDisposition") != "SendAndSaveCopy":
        raise EwsError("ErrorInvalidRequest", "this test server only sends and saves")
    mime = elem.findtext(q(T, "MimeContent"))
    if not mime:
        raise EwsError("ErrorMimeContentInvalid", "no MimeContent")
    raw = base64.b64decode(mime)
    ews.mailbox.add(ews.mailbox.folder(folder or "sentitems"), raw)
    ews.sent.append(raw)


def _create_meeting(ews: EwsServer, request: etree._Element, elem: etree._Element, folder: str | None) -> Item:
    """A calendar item; SendMeetingInvitations says whether Exchange mails the attendees."""
    mode = request.get("SendMeetingInvitations")
    if mode is None:  # required for calendar items
        raise EwsError("ErrorSendMeetingInvitationsRequired", "SendMeetingInvitations is required")
    try:
        entry = CalendarEntry.from_xml(elem)
    except ValueError as exc:
        raise EwsError("ErrorSchemaValidation", str(exc)) from exc
    item = ews.mailbox.file(ews.mailbox.folder(folder or "calendar"),
                            Item("", b"", "", entry.subject, "CalendarItem", calendar=entry))
    ews.meeting_mail += invitation_mail(entry, mode)
    return item


def _calendar_item(box: Mailbox, ref: etree._Element, code: str, text: str) -> Item:
    """The calendar item a reference names, at the change key it names (if any)."""
    item = _find_item(box, ref.get("Id"))
    if item.calendar is None:
        raise EwsError(code, text)
    if ref.get("ChangeKey") not in (None, item.changekey):
        raise EwsError("ErrorIrresolvableConflict", "The change key is out of date.")
    return item


def _cancel_meeting(ews: EwsServer, request: etree._Element, elem: etree._Element, folder: str | None) -> None:
    """CancelCalendarItem: every attendee is told, and the organizer's item goes to Deleted Items."""
    box = ews.mailbox
    item = _calendar_item(box, elem.find(q(T, "ReferenceItemId")), "ErrorItemNotFound",
                          "The reference item is not a calendar item.")
    entry = item.calendar
    entry.cancelled = True
    note = elem.findtext(q(T, "NewBodyContent")) or ""
    ews.meeting_mail.append(MeetingMail(entry.uid, "cancel", entry.addresses(), note))
    box.remove(item.id)
    box.file(box.folder("deleteditems"), item)
    item.change += 1


def sync_folder_items(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    box = ews.mailbox
    try:
        folder = box.folder(_refs(request, q(M, "SyncFolderId"))[0])
        since = box.parse_sync_state(folder, request.findtext(q(M, "SyncState")))
    except EwsError as exc:
        # Exchange keeps the (empty) SyncState and IncludesLastItemInRange in an error answer too,
        # and exchangelib reads both before it looks at the response code.
        msg = _message("SyncFolderItems", exc.code, exc.text)
        etree.SubElement(msg, q(M, "SyncState"))
        etree.SubElement(msg, q(M, "IncludesLastItemInRange")).text = "true"
        return [msg]
    limit = int(request.findtext(q(M, "MaxChangesReturned")) or 100)
    changes, position, complete = box.changes(folder, since, limit)
    msg = _message("SyncFolderItems")
    etree.SubElement(msg, q(M, "SyncState")).text = box.sync_state(folder, position)
    etree.SubElement(msg, q(M, "IncludesLastItemInRange")).text = "true" if complete else "false"
    container = etree.SubElement(msg, q(M, "Changes"))
    for kind, item_id in changes:
        if kind == "create":
            _item_xml(etree.SubElement(container, q(T, "Create")), folder.items[item_id])
        else:
            gone = etree.SubElement(container, q(T, "Delete"))
            etree.SubElement(gone, q(T, "ItemId"), Id=item_id, ChangeKey="CK0")
    return [msg]


def _find_item(box: Mailbox, item_id: str) -> Item:
    for folder in box.folders.values():
        if item_id in folder.items:
            return folder.items[item_id]
    raise EwsError("ErrorItemNotFound", "The specified object was not found in the store.")


def get_item(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    box = ews.mailbox
    wants_mime = any(e.get("FieldURI") == "item:MimeContent" for e in request.iter(q(T, "FieldURI")))

    def answer(item_id: str) -> etree._Element:
        item = _find_item(box, item_id)
        msg = _message("GetItem")
        _item_xml(etree.SubElement(msg, q(M, "Items")), item, mime=wants_mime, fields=True)
        return msg
    return _each("GetItem", _refs(request, q(M, "ItemIds")), answer)


def move_item(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    box = ews.mailbox
    target = box.folder(_refs(request, q(M, "ToFolderId"))[0])

    def answer(item_id: str) -> etree._Element:
        _, item = box.remove(item_id)
        moved = box.add(target, item.mime, item.tag)  # Exchange gives a moved item a new id
        msg = _message("MoveItem")
        _item_xml(etree.SubElement(msg, q(M, "Items")), moved)
        return msg
    return _each("MoveItem", _refs(request, q(M, "ItemIds")), answer)


def find_item(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    """FindItem, understanding a CalendarView and the one restriction we send: InternetMessageId equals."""
    box = ews.mailbox
    uri = request.find(f".//{q(M, 'Restriction')}//{q(T, 'FieldURI')}")
    constant = request.find(f".//{q(M, 'Restriction')}//{q(T, 'Constant')}")
    view = request.find(q(M, "CalendarView"))

    def answer(ref: str) -> etree._Element:
        found = list(box.folder(ref).items.values())
        if view is not None:  # EWS allows no restriction beside a CalendarView
            start, end = ews_time(view.get("StartDate")), ews_time(view.get("EndDate"))
            found = [i for i in found if i.calendar is not None and overlaps(i.calendar, start, end)]
        elif uri is not None and uri.get("FieldURI") == "message:InternetMessageId":
            found = [i for i in found if i.message_id == constant.get("Value")]
        elif uri is not None:
            raise EwsError("ErrorInvalidRestriction", f"test server cannot restrict on {uri.get('FieldURI')}")
        msg = _message("FindItem")
        root = etree.SubElement(msg, q(M, "RootFolder"), TotalItemsInView=str(len(found)),
                                IncludesLastItemInRange="true", IndexedPagingOffset=str(len(found)))
        items = etree.SubElement(root, q(T, "Items"))
        for item in found:
            _item_xml(items, item, fields=item.calendar is None)
        return msg
    return _each("FindItem", _refs(request, q(M, "ParentFolderIds")), answer)


def update_item(ews: EwsServer, request: etree._Element) -> list[etree._Element]:
    """UpdateItem on calendar items: Set/Append/DeleteItemField, then the meeting mail the mode asks for."""
    box = ews.mailbox
    mode = request.get("SendMeetingInvitationsOrCancellations")

    def answer(change: etree._Element) -> etree._Element:
        item = _calendar_item(box, change.find(q(T, "ItemId")), "ErrorInvalidRequest",
                              "this test server only updates calendar items")
        entry = item.calendar
        before = entry.addresses()
        try:
            changed = {entry.apply(update) for update in change.find(q(T, "Updates"))}
        except ValueError as exc:
            raise EwsError("ErrorInvalidPropertySet", str(exc)) from exc
        item.subject, item.change = entry.subject, item.change + 1
        ews.meeting_mail.extend(update_mail(before, entry, changed, mode))
        msg = _message("UpdateItem")
        _item_xml(etree.SubElement(msg, q(M, "Items")), item)
        conflicts = etree.SubElement(msg, q(M, "ConflictResults"))
        etree.SubElement(conflicts, q(T, "Count")).text = "0"
        return msg
    changes = request.find(q(M, "ItemChanges"))
    return _each("UpdateItem", list(changes) if changes is not None else [], answer)


OPERATIONS = {"GetFolder": get_folder, "FindFolder": find_folder, "CreateFolder": create_folder,
              "CreateItem": create_item, "SyncFolderItems": sync_folder_items, "GetItem": get_item,
              "MoveItem": move_item, "FindItem": find_item, "UpdateItem": update_item}
