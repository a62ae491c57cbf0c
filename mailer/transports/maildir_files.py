"""Writing Maildir files so that none is ever seen half written or lost to a killed process.

The Maildir rule: a file is written under ``tmp/``, flushed to disk, and only then renamed into
``new/``, where readers look. ``write_new`` does it for one file (one ``fsync``). ``write_batch``
does it for many with one flush to disk for them all: every file is written under ``tmp/``, the
file system is flushed once, then each is renamed. What a reader can see, and what a killed
process leaves, is the same as writing them one by one: a renamed file is complete and on disk;
a file not yet renamed is nowhere but ``tmp/``.

The one flush is ``syncfs(2)`` (Linux 2.6.39+; waits for the file system's dirty data and its
journal): one call instead of one ``fsync`` a file, each of which waits for a journal commit of
its own (0.4-1.5 ms here). Where the call does not exist, the batch is flushed one ``fsync`` a
file, as before. ``syncfs`` also writes out what other programs left dirty on the same file
system, so a busy disk makes it slower, never less safe; before Linux 5.8 it reported no write
errors, which ``fsync`` does (this transport is for trying things out and tests).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from typing import Callable, Sequence

from mailer import private
from mailer.faults import kill_point

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _find_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs`` where the system has one, else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        found = libc.syncfs
    except (OSError, AttributeError):
        return None
    found.argtypes, found.restype = [ctypes.c_int], ctypes.c_int
    return found


_SYNCFS = _find_syncfs()


def write_new(maildir: str, pieces: tuple[bytes, ...], key: str) -> None:
    """Write ``pieces`` as one file ``maildir/new/key`` through ``tmp/`` (the folders exist).

    The file is flushed to disk (one ``fsync``) before the rename makes it visible: a reader
    never sees half a message, and a crash before the rename leaves nothing in new/. Plain
    file descriptors: at one email per call, Python's file objects cost more than the writing.

    No ``fsync`` of the folder after the rename (there never was one; batching one would
    not change what follows). A killed process loses nothing: the rename is complete once
    ``rename`` returns, and the outbox records the send only after that. Only a power cut can
    lose a rename, and the outbox's record of the send is not flushed per email either
    (SQLite ``synchronous = NORMAL``): lost together, the send reads as not done and goes
    again (``find_sent`` finds no file). On ext4 the next ``fsync`` (the next email's, or
    SQLite's at a checkpoint) commits the file-system journal that holds the rename, so the
    record outliving the file would take the disk writing SQLite's log on its own before the
    journal's next commit (every 5 s); this transport is for trying things out and tests.
    """
    tmp = f"{maildir}/tmp/{key}"
    handle = _write_tmp(tmp, pieces)
    try:
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        os.rename(tmp, f"{maildir}/new/{key}")
    except BaseException:
        _discard(tmp)
        raise


def write_batch(maildir: str, files: Sequence[tuple[tuple[bytes, ...], str]]) -> list[OSError | None]:
    """Write each ``(pieces, key)`` as ``maildir/new/key`` through ``tmp/`` with one flush to
    disk for them all (the folders exist); per file, None once it is in new/, else the error
    that kept it out (it is then nowhere: its ``tmp/`` file is removed).

    Files are renamed in the order given, each only after the flush; a process killed between
    two renames leaves the first ones complete in new/ and the rest unseen in ``tmp/``.
    """
    errors: list[OSError | None] = [None] * len(files)
    handles: dict[int, int] = {}  # position in files -> open descriptor of its tmp/ file
    try:
        for i, (pieces, key) in enumerate(files):
            try:
                handles[i] = _write_tmp(f"{maildir}/tmp/{key}", pieces)
            except OSError as exc:
                errors[i] = exc
        try:
            flush_to_disk(list(handles.values()))
        except OSError as exc:
            for i in handles:
                errors[i] = exc
    finally:
        for handle in handles.values():
            os.close(handle)
    for i in (i for i in handles if errors[i] is None):
        errors[i] = _rename_new(maildir, files[i][1])
    for i in (i for i in handles if errors[i] is not None):
        _discard(f"{maildir}/tmp/{files[i][1]}")
    return errors


def flush_to_disk(handles: list[int]) -> None:
    """Make the data of these open files durable: one ``syncfs`` for their file system (they
    share one: a Maildir's tmp/), else one ``fsync`` each. Raises OSError when it fails."""
    if not handles:
        return
    if _SYNCFS is not None:
        if _SYNCFS(handles[0]) != 0:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))
        return
    for handle in handles:
        os.fsync(handle)


def _rename_new(maildir: str, key: str) -> OSError | None:
    """Move ``tmp/key`` into ``new/``: the moment a file becomes visible (None when done)."""
    try:
        os.rename(f"{maildir}/tmp/{key}", f"{maildir}/new/{key}")
    except OSError as exc:
        return exc
    kill_point("maildir-renamed")  # crash tests: killed between two renames of a batch
    return None


def _write_tmp(tmp: str, pieces: tuple[bytes, ...]) -> int:
    """Create ``tmp`` (it must not exist) holding ``pieces``; its descriptor, still open.

    A full disk (or a file size limit) fails the write: no empty or partial file is left in
    tmp/ for a reader or a cleaner to trip over.
    """
    handle = os.open(tmp, _OPEN_FLAGS, private.FILE_MODE)
    try:
        write_all(handle, pieces)
    except BaseException:
        os.close(handle)
        _discard(tmp)
        raise
    return handle


def write_all(handle: int, pieces: tuple[bytes, ...]) -> None:
    """Write every byte of ``pieces`` (a write may take less than it was given)."""
    data = b"".join(pieces) if len(pieces) > 1 else pieces[0]
    view, done = memoryview(data), 0
    while done < len(view):
        done += os.write(handle, view[done:])


def _discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
