"""The Exchange transport: one mailbox on Exchange Server, through EWS and exchangelib.

EWS is being switched off in Exchange Online (tenant blocking from October 2026, off on
1 April 2027); Exchange Server on-premises keeps it. Exchange Online belongs to the Graph
transport. Both sit behind the same Protocol, so nothing above the transports knows which runs.

- Sending: the bytes cop-mailer built go out untouched as MIME content, with a copy saved to
  Sent Items (CreateItem, SendAndSaveCopy): our headers and Message-ID survive, where a Message
  built field by field would need registered extended properties for every custom header.
- Reading: SyncFolderItems on the inbox from the sync state kept in the store, a page at a time,
  then the raw MIME of new items in small GetItem chunks (bulk MIME fetches trigger throttling,
  exchangelib #390).
  Each page's sync state rides on its last item and is saved once the inbox has kept that item
  and every one before it (base.settle), not before: a pass that stops midway is read again from
  the last page kept, and the inbox dedupes by transport id and Message-ID.
- Throttling: ErrorServerBusy's back-off hint is honoured. A short one is slept through inside
  exchangelib; a longer one makes ``send`` raise TemporarySendError with ``retry_after`` and keeps
  this transport off the server until then.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from exchangelib import Folder, Message, Q
from exchangelib.errors import ErrorInvalidSyncStateData, ErrorItemNotFound
from exchangelib.folders import FolderCollection
from exchangelib.folders import SHALLOW
from exchangelib.properties import ItemId
from exchangelib.items import ID_ONLY
from exchangelib.services import CreateFolder, SyncFolderItems

from mailer.errors import TemporarySendError, TransportError
from mailer.store.sync_state import SyncState
from mailer.transports.base import CheckLine, Fetched, NativeCalendar, Outgoing
from mailer.transports.exchange_calendar import ExchangeCalendar
from mailer.transports.exchange_connect import (EWS_ERRORS, ExchangeSettings, busy_wait, connect, disconnect,
                                                plain, send_error)

log = logging.getLogger(__name__)

SYNC_KEY = "exchange:inbox"
WAIT_KEY = "exchange:busy"  # a back-off hint kept in the store (store/sync_state.py)
MIME_CHUNK = 10  # items per GetItem with MIME content
SYNC_PAGE = 100  # changes per SyncFolderItems answer
ID_PREFIX = "ews:"
CHECK_MESSAGE_ID = "<cop-mailer-check@invalid>"  # searched for by ``check``; never sent


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ExchangeTransport:
    """Sends and reads one Exchange mailbox over EWS."""

    kind = "exchange"
    keeps_sent = True
    # Exchange Server's default send limit (Set-TransportConfig MaxSendSize) is 10 MB, counted on
    # the MIME as sent; an organisation may raise it, and a bigger message gets
    # ErrorMessageSizeExceeded, which the outbox answers the same way.
    max_message_bytes = 10 * 1024 * 1024

    def __init__(self, settings: ExchangeSettings, sync: SyncState | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        """Nothing connects until first use. Without ``sync`` the position is kept in memory only."""
        self.settings = settings
        self.sync = sync
        self.clock = clock  # stamps the sync state and times back-off hints; the transport is the I/O edge
        self._account = None
        self._processed = None
        self._memory_state: str | None = None
        self._busy_until: datetime | None = None  # no call reaches the server before this
        # With native_meetings, meetups are calendar items in this mailbox (exchange_calendar.py).
        self.calendar: NativeCalendar | None = ExchangeCalendar(self) if settings.native_meetings else None

    @property
    def account(self):
        """The exchangelib Account (built on first use; building sends no request)."""
        if self._account is None:
            self._account = connect(self.settings)
        return self._account

    # -- throttling -----------------------------------------------------------------------------
    def busy_for(self) -> float:
        """Seconds left of the last back-off hint (0 when none is running), this process's or
        one kept in the store by another."""
        kept = self.sync.wait_until(WAIT_KEY) if self.sync else None
        until = max((u for u in (self._busy_until, kept) if u is not None), default=None)
        if until is None:
            return 0.0
        return max((until - self.clock()).total_seconds(), 0.0)

    def note_error(self, exc: BaseException) -> None:
        """Remember a back-off hint, in the store too, so no call of any process reaches the
        server before it has passed."""
        wait = busy_wait(exc)
        if wait:
            until = self.clock() + timedelta(seconds=wait)
            self._busy_until = max(self._busy_until or until, until)
            if self.sync:
                self.sync.wait(WAIT_KEY, until, f"ErrorServerBusy: back off {wait:.0f} s", self.clock())

    def _guard(self) -> None:
        """Refuse to call the server while a back-off hint runs (the worker tries again later)."""
        if self.busy_for():
            raise TransportError(f"Exchange asked us to wait; {self.busy_for():.0f} s left")

    def _failed(self, what: str, exc: BaseException) -> TransportError:
        self.note_error(exc)
        return TransportError(f"Exchange: {what} failed: {plain(exc)}")

    # -- sending --------------------------------------------------------------------------------
    def send(self, mail: Outgoing) -> None:
        """Send our own MIME bytes and save a copy in Sent Items (one CreateItem)."""
        wait = self.busy_for()
        if wait:
            raise TemporarySendError(f"Exchange asked us to wait; {wait:.0f} s left", retry_after=wait)
        try:
            sent = self.account.sent  # GetFolder, once: nothing has been handed over yet
        except EWS_ERRORS as exc:
            self.note_error(exc)
            raise TemporarySendError(f"Exchange: cannot open Sent Items: {plain(exc)}",
                                     retry_after=busy_wait(exc)) from exc
        try:
            Message(account=self.account, folder=sent, mime_content=mail.data).send_and_save()
        except EWS_ERRORS as exc:
            self.note_error(exc)
            raise send_error(exc) from exc

    def find_sent(self, message_id: str) -> bool:
        """Whether Sent Items holds a message with this Message-ID (FindItem on InternetMessageId)."""
        self._guard()
        try:
            return self.account.sent.filter(message_id=message_id).exists()
        except EWS_ERRORS as exc:
            raise self._failed("searching Sent Items", exc) from exc

    # -- reading --------------------------------------------------------------------------------
    def fetch(self) -> Iterator[Fetched]:
        """Yield new inbox items as raw MIME, one SyncFolderItems page after another; the last
        item of each page carries the page's sync state as its ``position``, saved by ``commit``
        once the inbox has kept that item and every one before it.

        Items are handed on one behind the reading, so the last of a page is known when it is
        handed on. A page with nothing new moves its state onto the item still held back, or,
        when nothing was handed on yet, saves it at once (no item depends on it).
        """
        self._guard()
        ahead: Fetched | None = None
        try:
            for ids, state in self._pages():
                for start in range(0, len(ids), MIME_CHUNK):
                    for fetched in self._mime(ids[start:start + MIME_CHUNK]):
                        if ahead is not None:
                            yield ahead
                        ahead = fetched
                if ahead is None:
                    self.commit(state)
                else:
                    ahead = replace(ahead, position=state)
        except EWS_ERRORS as exc:
            raise self._failed("reading the inbox", exc) from exc
        if ahead is not None:
            yield ahead

    def commit(self, position: str) -> None:
        """Save a sync state handed on with an item (``Fetched.position``)."""
        self._save_state(position)

    def _pages(self) -> Iterator[tuple[list[str], str]]:
        """Ids of the items created in the inbox since the saved sync state, a SyncFolderItems
        page at a time, each with the state after it (what exchangelib's ``sync_items`` loops
        over, one page at a time so that the position can move with each page kept)."""
        inbox, state = self.account.inbox, self._load_state()
        service = SyncFolderItems(account=self.account)
        while True:
            try:
                changes = list(service.call(folder=inbox, shape=ID_ONLY, additional_fields=set(), sync_state=state,
                                            ignore=None, max_changes_returned=SYNC_PAGE, sync_scope=None))
            except ErrorInvalidSyncStateData:
                if state is None:
                    raise
                # Exchange forgot our position: read the whole inbox again. What was handled
                # already sits in the processed folder; what is still here is deduped by the inbox.
                log.warning("Exchange refused the saved sync state; reading the inbox from the start")
                state = None
                continue
            yield [item.id for kind, item in changes if kind == "create"], service.sync_state
            if service.sync_state == state or service.includes_last_item_in_range:
                return
            state = service.sync_state

    def _mime(self, ids: list[str]) -> Iterator[Fetched]:
        items = self.account.fetch(ids=[ItemId(id=i) for i in ids], only_fields=["mime_content"])
        for item_id, item in zip(ids, items):
            if isinstance(item, ErrorItemNotFound):
                continue  # moved or deleted by someone else since the sync
            if isinstance(item, Exception):
                raise item
            yield Fetched(transport_id=ID_PREFIX + item_id, raw=bytes(item.mime_content))

    def _load_state(self) -> str | None:
        return self.sync.get(SYNC_KEY) if self.sync else self._memory_state

    def _save_state(self, state: str | None) -> None:
        if self.sync:
            self.sync.set(SYNC_KEY, state, self.clock())
        else:
            self._memory_state = state

    def done(self, fetched: Fetched) -> None:
        """Move the item to the processed folder (created once); an item already gone is fine."""
        item_id = fetched.transport_id.removeprefix(ID_PREFIX)
        self._guard()
        try:
            results = self.account.bulk_move(ids=[ItemId(id=item_id)], to_folder=self._processed_folder())
        except EWS_ERRORS as exc:
            raise self._failed(f"filing away {item_id[:24]}…", exc) from exc
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, ErrorItemNotFound):
                raise TransportError(f"Exchange: filing away failed: {type(result).__name__}: {result}")

    def _processed_folder(self):
        """The processed folder under the mailbox root, found by name or created once."""
        if self._processed is None:
            root = self.account.msg_folder_root
            name = self.settings.processed_folder
            found = [f for f in FolderCollection(account=self.account, folders=[root]).find_folders(
                q=Q(name=name), depth=SHALLOW) if not isinstance(f, Exception)]
            if found:
                self._processed = found[0]
            else:
                # CreateFolder directly: Folder.save() would first map every folder of the mailbox.
                created = CreateFolder(account=self.account).get(parent_folder=root,
                                                                 folders=[Folder(parent=root, name=name)])
                self._processed = created
        return self._processed

    # -- check ----------------------------------------------------------------------------------
    def check(self) -> list[CheckLine]:
        """Log in, look at the inbox, Sent Items and calendar; nothing is sent or changed."""
        s = self.settings
        where = s.endpoint or "autodiscover"
        try:
            self.account.msg_folder_root
        except EWS_ERRORS as exc:
            reason = f"cannot log in to {where} as {s.mailbox} ({s.auth}): {plain(exc)}"
            return [CheckLine("log in", False, reason)]
        lines = [CheckLine("log in", True, f"logged in to {where} as {s.mailbox} ({s.auth})")]
        lines.append(self._try("read the inbox", lambda: f"inbox readable ({self.account.inbox.total_count} "
                               "message(s) in it)"))
        lines.append(self._try("send", self._send_rights))
        lines.append(self._try("calendar", self._calendar_line))
        lines.append(self._try("Sent folder", self._sent_search))
        return lines

    def _calendar_line(self) -> str:
        calendar = self.account.calendar  # GetFolder: read access to the calendar folder
        if self.settings.native_meetings:
            return f"calendar {calendar.name!r} readable; meetups become calendar items Exchange sends"
        return f"calendar readable ({calendar.name})"

    def _sent_search(self) -> str:
        self.account.sent.filter(message_id=CHECK_MESSAGE_ID).exists()
        return "Sent Items searchable by Message-ID, so uncertain sends can be settled"

    def _send_rights(self) -> str:
        rights = self.account.sent.effective_rights
        if rights is not None and not rights.create_contents:
            raise TransportError("no right to create items in Sent Items")
        return ("Sent Items writable; EWS cannot prove the right to send without sending a message, "
                "so the first real send is the proof")

    def _try(self, what: str, probe: Callable[[], str]) -> CheckLine:
        try:
            return CheckLine(what, True, probe())
        except (*EWS_ERRORS, TransportError) as exc:
            self.note_error(exc)
            return CheckLine(what, False, plain(exc))

    def close(self) -> None:
        """Close the HTTP sessions; safe to call twice."""
        if self._account is not None:
            disconnect(self._account)
            self._account, self._processed = None, None
