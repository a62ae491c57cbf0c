"""The Maildir transport: mail goes into folders on disk, for trying things out and for tests.

Layout under ``root`` (each one a real Maildir with ``tmp/``, ``new/`` and ``cur/``, so any
mail client or ``mutt -f`` can open it):

- ``outbox``    what we "sent", the bytes exactly as handed to ``send``;
- ``inbox``     what arrives (``deliver_to_inbox`` drops a message here);
- ``processed`` where ``done`` files a message once its effect is recorded; nothing is deleted;
- ``outbox-index`` which outbox file holds which Message-ID, so checking whether a message was
  sent is a look-up, not a read of every message (it sits beside the outbox, not in it: a dot
  folder inside a Maildir is a Maildir++ subfolder to clients). Each send appends one line
  (id hash, file key) to its ``log``; older versions wrote one small file per Message-ID,
  named by the hash, and those are still read.

Writing follows the Maildir rule (a file appears in ``new/`` only once complete): write to
``tmp/``, flush to disk, then rename into ``new/`` (``maildir_files``: one email, or a batch
flushed to disk once). A reader never sees half a message.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import os
import shutil
import socket
import time
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Iterator, Sequence

from mailer import private
from mailer.errors import LocalFileError, TemporarySendError, TransportError
from mailer.transports.base import CheckLine, Fetched, Outgoing
from mailer.transports.maildir_files import write_all, write_batch, write_new

SUBDIRS = ("tmp", "new", "cur")
# The Maildir "info" part follows a colon: ``<unique>:2,S`` means "seen". The part before the
# colon (the key) stays the same when a mail client moves a message from new/ to cur/.
INFO_SEPARATOR = ":"
SEEN_INFO = ":2,S"
INDEX_LOG = "log"  # in outbox-index: one "<id digest> <file key>" line per send
BATCH_FILES = 100  # files ``send_batch`` keeps open at once (flushed to disk together)
_counter = itertools.count()


def ensure_maildir(path: Path) -> Path:
    """Create ``path`` with tmp/, new/ and cur/ if missing, owner-only (0700, as Python's
    ``mailbox.Maildir`` makes them); return it."""
    for sub in SUBDIRS:
        private.make_dirs(path / sub)
    return path


def unique_name() -> str:
    """A Maildir file name unique across processes and hosts: time, pid, counter, host.

    The conventional shape is ``<seconds>.M<micros>P<pid>Q<counter>.<host>``; seconds first, so
    names written by one process sort in the order they were written.
    """
    now_ns = time.time_ns()
    seconds, micros = divmod(now_ns // 1000, 1_000_000)
    return f"{seconds}.M{micros:06d}P{os.getpid()}Q{next(_counter)}R{os.urandom(4).hex()}.{_host()}"


@functools.lru_cache(maxsize=1)
def _host() -> str:
    # Read once per process: the name only has to tell hosts apart (pid, counter and random
    # bytes already make it unique here), and asking costs a system call per email.
    return socket.gethostname().replace("/", r"\057").replace(":", r"\072")


def write_message(maildir: Path, raw: bytes, key: str | None = None) -> str:
    """Write ``raw`` into ``maildir/new`` through ``tmp`` (never half visible); return its key."""
    ensure_maildir(maildir)
    key = key or unique_name()
    write_new(str(maildir), (raw,), key)
    return key


def message_key(file_name: str) -> str:
    """The Maildir key of a file name: everything before the ``:2,FLAGS`` info part."""
    return file_name.split(INFO_SEPARATOR, 1)[0]


def list_messages(maildir: Path) -> list[Path]:
    """Files in new/ and cur/, oldest first (by modification time, then name)."""
    return [Path(path) for path, _ in _listed(maildir)]


def _listed(maildir: Path) -> list[tuple[str, str]]:
    """(path, name) of the files in new/ and cur/, oldest first (by modification time, then name)."""
    found: list[tuple[int, str, str]] = []
    for sub in ("new", "cur"):
        folder = maildir / sub
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if entry.name.startswith(".") or not entry.is_file():
                continue  # dot files are a mail client's own bookkeeping, not messages
            try:
                found.append((entry.stat().st_mtime_ns, entry.name, entry.path))
            except FileNotFoundError:
                continue  # moved away by another reader between listing and stat
    return [(path, name) for _, name, path in sorted(found)]


def find_by_key(maildir: Path, key: str) -> Path | None:
    """The file in new/ or cur/ whose key is ``key``, or None.

    Probes the names a message usually has first (``new/KEY``, ``cur/KEY:2,S``, ``cur/KEY:2,``:
    no directory listing); only a message a mail client flagged otherwise costs a scan of cur/.
    """
    for guess in (maildir / "new" / key, maildir / "cur" / f"{key}{SEEN_INFO}", maildir / "cur" / f"{key}:2,"):
        if guess.is_file():
            return guess
    for sub in ("cur", "new"):
        folder = maildir / sub
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if message_key(entry.name) == key:
                return Path(entry.path)
    return None


def header_message_id(path: Path) -> str | None:
    """The Message-ID header of the message in ``path`` (headers only are read and parsed)."""
    head = bytearray()
    with open(path, "rb") as handle:
        for line in handle:
            if line in (b"\r\n", b"\n"):
                break
            head += line
    parsed = BytesHeaderParser(policy=compat32).parsebytes(bytes(head))
    value = parsed.get("Message-ID")
    return _normalise_id(str(value)) if value is not None else None


def id_file(index: Path, message_id: str) -> Path:
    """The index file for a Message-ID (as older versions wrote the index: a file per id)."""
    return index / id_digest(message_id)


def id_digest(message_id: str) -> str:
    """A Message-ID as the index names it: a hash, since an id may hold any character."""
    return hashlib.sha256(_normalise_id(message_id).encode("utf-8")).hexdigest()[:40]


def _normalise_id(value: str) -> str:
    """Message-IDs compare without folding whitespace and with one pair of angle brackets."""
    bare = "".join(value.split()).strip("<>")
    return f"<{bare}>"


def _unlinked(path: Path) -> bool:
    """Delete ``path``; False when it was not there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def deliver_to_inbox(root: Path, raw: bytes) -> str:
    """Drop ``raw`` into ``root/inbox`` as a mail server would; return the new message's key."""
    return write_message(Path(root) / "inbox", raw)


class MaildirTransport:
    """Sends into ``root/outbox``, reads ``root/inbox``, files processed mail in ``root/processed``."""

    kind = "maildir"
    keeps_sent = True
    calendar = None  # no native meetings: meetups go out as iMIP mail
    max_message_bytes = None  # files on disk: no size limit
    sends_from_thread = True  # send and find_sent use no database: the outbox may flush in a thread (outbox_thread)

    def __init__(self, root: Path) -> None:
        """Use the Maildirs under ``root``; they are created on first use."""
        self.root = Path(root)
        self.outbox = self.root / "outbox"
        self.inbox = self.root / "inbox"
        self.processed = self.root / "processed"
        self.index = self.root / "outbox-index"
        self._fetched: dict[str, str] = {}  # key -> the path fetch read it from
        self._processed_ready = False  # the processed Maildir is known to exist
        self._folders_ready = False  # the outbox Maildir and the index are known to exist
        self._logged: dict[str, list[str]] = {}  # the index log as read so far: digest -> keys
        self._log_read: tuple[int, bytes] = (0, b"")  # bytes of the log read, the last line read
        # Folders an older version made 0755 (with 0644 messages in them) become owner-only.
        private.tighten_all([self.root, *(box / sub for box in (self.outbox, self.inbox, self.processed)
                                          for sub in ("", *SUBDIRS)), self.index])

    def send(self, mail: Outgoing) -> None:
        """Write the message bytes into the outbox Maildir, under a ``Return-Path`` line with
        the envelope sender, as a delivering mail server records it (RFC 5321 4.4), and index
        its Message-ID."""
        try:
            key = unique_name()
            try:
                self._write_sent(mail, key)
            except FileNotFoundError:
                self._folders_ready = False  # a folder went away since the last send: make it again
                self._write_sent(mail, key)
        except OSError as exc:
            # The rename into new/ is the commit point: before it nothing is visible, so a
            # failure here (disk full, permissions) is safe to retry.
            raise TemporarySendError(f"could not write to {self.outbox}: {exc}") from exc

    def send_batch(self, mails: Sequence[Outgoing]) -> list[TemporarySendError | None]:
        """``send`` for several messages, flushed to disk once for them all
        (``maildir_files.write_batch``); per message, None once it is in the outbox, else the
        error that kept it out (nothing of it is visible: safe to send again).

        Every message is indexed before any is renamed into view, so after a kill between two
        renames ``find_sent`` tells the renamed ones from the rest, as after a killed ``send``.
        """
        outcomes: list[TemporarySendError | None] = []
        for start in range(0, len(mails), BATCH_FILES):  # a bounded number of open files
            outcomes += self._send_chunk(mails[start:start + BATCH_FILES])
        return outcomes

    def _send_chunk(self, mails: Sequence[Outgoing]) -> list[TemporarySendError | None]:
        errors: list[OSError | None] = [None] * len(mails)
        pending = list(range(len(mails)))
        for _ in range(2):  # a folder that went away since the last send is made again, once
            try:
                found = self._write_batch([mails[i] for i in pending])
            except OSError as exc:
                found = [exc] * len(pending)
            for i, error in zip(pending, found):
                errors[i] = error
            pending = [i for i in pending if isinstance(errors[i], FileNotFoundError)]
            if not pending:
                break
            self._folders_ready = False
        return [None if error is None else TemporarySendError(f"could not write to {self.outbox}: {error}")
                for error in errors]

    def _write_batch(self, mails: Sequence[Outgoing]) -> list[OSError | None]:
        keys = [unique_name() for _ in mails]
        self._ready()
        self._index(mails, keys)
        return write_batch(str(self.outbox), [(self._pieces(mail), key) for mail, key in zip(mails, keys)])

    def _write_sent(self, mail: Outgoing, key: str) -> None:
        self._ready()
        self._index([mail], [key])
        write_new(str(self.outbox), self._pieces(mail), key)

    def _ready(self) -> None:
        if not self._folders_ready:  # checked once, not per email (a stat and three mkdirs)
            self._ensure_index()
            ensure_maildir(self.outbox)
            self._folders_ready = True

    def _index(self, mails: Sequence[Outgoing], keys: list[str]) -> None:
        """Name the files about to appear, before they do: if we die before a rename, find_sent
        looks for that file, does not find it, says "not sent". One line a message appended
        to the log (a file per id cost creating a file per email; the line has the same
        durability: neither is flushed to disk, the message file is). Opened per call, so
        that a removed index folder is noticed and made again."""
        lines = "".join(f"{id_digest(mail.message_id)} {key}\n" for mail, key in zip(mails, keys))
        log = os.open(self.index / INDEX_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                      private.FILE_MODE)
        try:
            write_all(log, (lines.encode("ascii"),))
        finally:
            os.close(log)

    @staticmethod
    def _pieces(mail: Outgoing) -> tuple[bytes, bytes]:
        return f"Return-Path: <{mail.bounce_to or mail.sender}>\r\n".encode(), mail.data

    def fetch(self) -> Iterator[Fetched]:
        """Yield the inbox's messages oldest first; they stay there until ``done``."""
        try:
            ensure_maildir(self.inbox)
        except OSError as exc:
            raise LocalFileError(f"cannot make the inbox Maildir {self.inbox}: {exc.strerror}") from exc
        for path, name in _listed(self.inbox):
            try:
                with open(path, "rb") as handle:  # what Path.read_bytes does, with less around it
                    raw = handle.read()
            except FileNotFoundError:
                continue  # another worker filed it away meanwhile
            except OSError as exc:
                raise LocalFileError(f"cannot read {path}: {exc.strerror}") from exc
            key = message_key(name)
            self._fetched[key] = path
            yield Fetched(transport_id=key, raw=raw)

    def done(self, fetched: Fetched) -> None:
        """Move the message into the processed Maildir, marked seen; calling it twice is harmless.

        A folder we may not write (mail/inbox/new, mail/processed/cur) is a ``LocalFileError``:
        the message is already stored with its effect, and is filed at the next pass after a fix.
        """
        try:
            self._file_away(fetched.transport_id)
        except OSError as exc:
            raise LocalFileError(
                f"cannot move message {fetched.transport_id} from {self.inbox} to {self.processed / 'cur'}: "
                f"{exc.strerror}; it is stored and handled, and is filed away at the next pass once "
                "both folders are writable by this user") from exc

    def _file_away(self, key: str) -> None:
        source = self._fetched.pop(key, None)
        if source is not None and self._processed_ready:
            # The usual case: one rename, no stat first. It fails only when the file is no longer
            # where fetch saw it (a mail client moved it) or the processed folder went away; both
            # are handled below, the slow way.
            try:
                os.rename(source, f"{self.processed}/cur/{key}{SEEN_INFO}")
                return
            except FileNotFoundError:
                self._processed_ready = False
        source = find_by_key(self.inbox, key)
        if source is None:
            if find_by_key(self.processed, key) is not None:
                return
            raise TransportError(f"message {key} is neither in {self.inbox} nor in {self.processed}")
        ensure_maildir(self.processed)
        self._processed_ready = True
        os.rename(source, self.processed / "cur" / f"{key}{SEEN_INFO}")

    def commit(self, position: str) -> None:
        """Nothing to save: a message stays in the inbox folder until ``done`` files it away,
        and that folder itself is the reading position."""

    def remove_processed(self, keys: list[str]) -> None:
        """Delete these messages from the processed Maildir (``inbox.keep_raw_days``): each is
        looked for under the name ``done`` gives it, then once in a listing for the rest."""
        try:
            left = [key for key in keys if not _unlinked(self.processed / "cur" / f"{key}{SEEN_INFO}")]
            wanted = set(left)
            for sub in ("cur", "new") if wanted and self.processed.is_dir() else ():
                for entry in os.scandir(self.processed / sub):
                    if message_key(entry.name) in wanted:
                        _unlinked(Path(entry.path))
        except OSError as exc:
            raise LocalFileError(f"cannot delete old messages in {self.processed}: {exc.strerror}") from exc

    def find_sent(self, message_id: str) -> bool:
        """Whether the outbox holds a message with this Message-ID: one index lookup and one
        probe for the file it names (the index is built once from the files if missing)."""
        self._ensure_index()
        keys = self._logged_keys(id_digest(message_id))
        try:  # an entry written by an older version
            keys.append(id_file(self.index, message_id).read_text(encoding="ascii").strip())
        except FileNotFoundError:
            pass
        return any(find_by_key(self.outbox, key) is not None for key in keys)

    def _logged_keys(self, digest: str) -> list[str]:
        """The file keys the index log names for a Message-ID digest (every send of it).

        The log is read once and then only from where the last read stopped (it only grows),
        provided the last line read is still where it was: otherwise (the index was removed
        and made again) it is read from the start. A line still being written by another
        process is left for the next look-up.
        """
        try:
            with open(self.index / INDEX_LOG, "rb") as log:
                done, last = self._log_read
                log.seek(max(done - len(last), 0))
                if log.read(len(last)) != last:
                    self._logged, done = {}, 0
                    log.seek(0)
                chunk = log.read()
        except FileNotFoundError:
            return []
        complete = chunk.rfind(b"\n") + 1
        lines = chunk[:complete].splitlines(keepends=True)
        for line in lines:
            logged, _, key = line.decode("ascii", "replace").rstrip("\n").partition(" ")
            if key:
                self._logged.setdefault(logged, []).append(key)
        if lines:
            self._log_read = (done + complete, lines[-1])
        return list(self._logged.get(digest, ()))

    def _ensure_index(self) -> None:
        """Create the Message-ID index, indexing what an older version already sent."""
        if self.index.is_dir():
            return
        building = self.root / f"outbox-index.{os.getpid()}.tmp"
        private.make_dirs(building)
        for path in list_messages(self.outbox) if self.outbox.is_dir() else []:
            try:
                found = header_message_id(path)
            except FileNotFoundError:
                continue
            if found:
                private.write_file(id_file(building, found), message_key(path.name))
        try:
            os.rename(building, self.index)  # all at once: a half-built index is never used
        except OSError:
            if not self.index.is_dir():
                raise
            shutil.rmtree(building, ignore_errors=True)  # another process built it meanwhile

    def check(self) -> list[CheckLine]:
        """Whether the Maildirs exist (missing ones are made) and can be written; no message is written."""
        lines = [CheckLine("log in", True, f"no server: mail stays in {self.root}")]
        for what, folder in (("read the inbox", self.inbox), ("send", self.outbox)):
            try:
                ensure_maildir(folder)
                usable = os.access(folder / "new", os.R_OK | os.W_OK | os.X_OK)
            except OSError as exc:
                lines.append(CheckLine(what, False, f"cannot use {folder}: {exc}"))
                continue
            lines.append(CheckLine(what, usable, f"{folder} is {'usable' if usable else 'not writable'}"))
        lines.append(CheckLine("calendar", True, "invitations go out as iCalendar (iMIP) attachments"))
        lines.append(CheckLine("Sent folder", True, f"{self.outbox} keeps every message sent"))
        return lines

    def close(self) -> None:
        """Nothing to close."""
