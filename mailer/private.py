"""Owner-only files: what cop-mailer writes on disk is readable by its own user and nobody else.

Journal entries, raw replies, live reply tokens and (if someone puts one there) a password sit
in the home: folders are made 0700 and files 0600 on every path that creates them, whatever the
umask, as Python's own ``mailbox.Maildir`` and ssh do. Files cop-mailer owns (the database, its
Maildirs, the lock) are tightened when found wider; the home folder and ``mailer.toml`` are the
person's own, so ``check`` only warns about them (``exposed``).
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from mailer.errors import LocalFileError

log = logging.getLogger(__name__)
DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # any permission for the group or for everyone else


def make_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 folders (an existing one is left as it
    is); ``LocalFileError`` names the folder that cannot be made."""
    try:
        return make_dirs(path)
    except FileExistsError as exc:
        raise LocalFileError(f"{exc.filename} is a file, where a folder is expected") from exc
    except OSError as exc:
        raise LocalFileError(f"cannot create the folder {exc.filename or path}: {exc.strerror}") from exc


def make_dirs(path: Path) -> Path:
    """``make_dir`` raising the plain ``OSError`` (for callers that sort OS errors themselves)."""
    wanted = folder = Path(path)
    missing = []
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
    return wanted


def write_file(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` as an owner-only file (a wider existing file is made 0600 first)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        try:
            os.fchmod(handle, FILE_MODE)
            view, done = memoryview(raw), 0
            while done < len(view):
                done += os.write(handle, view[done:])
        finally:
            os.close(handle)
    except OSError as exc:
        raise LocalFileError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def create_empty(path: Path) -> bool:
    """Create ``path`` as an empty owner-only file unless it exists; True when it was created.

    SQLite gives a new database's -wal and -shm the mode of the database file, so a database
    file made this way before SQLite opens it keeps all three owner-only.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
    except FileExistsError:
        return False
    return True


def tighten(path: Path) -> bool:
    """Take every group and other permission off ``path`` (0755 -> 0700, 0644 -> 0600); True
    when it changed. A path that is missing or that we cannot change (another owner) is left
    as it is: ``check`` reports what stays open."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
        if not current & OTHERS:
            return False
        os.chmod(path, current & ~OTHERS)
    except OSError:
        return False
    log.info("made %s owner-only (was %04o)", path, current)
    return True


def tighten_all(paths: list[Path]) -> None:
    """``tighten`` each of ``paths`` (missing ones are skipped)."""
    for path in paths:
        tighten(path)


def exposed(path: Path) -> int | None:
    """The permission bits of ``path`` when the group or others have any, else None."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return mode if mode & OTHERS else None


def readable_by_others(path: Path) -> int | None:
    """The permission bits of ``path`` when the group or others may read it, else None."""
    mode = exposed(path)
    return mode if mode is not None and mode & 0o044 else None


def home_warnings(home: Path) -> list[str]:
    """What in ``home`` others may read or enter (the home, the database, ``mailer.toml``), each
    with the command that closes it; for ``check``."""
    found = []
    for what, path, fix in (("home", home, "700"), ("database", home / "mailer.db", "600"),
                            ("config file", home / "mailer.toml", "600")):
        mode = exposed(path)
        if mode is not None:
            found.append(f"{what} {path} is open to others (mode {mode:04o}): run chmod {fix} {path}")
    return found
