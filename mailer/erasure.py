"""``people erase``: the right to be forgotten, orchestrated in one function over every store.

What a person wrote and received goes: journal texts, update and feedback texts, comments,
highlights, files (photos), raw replies (the inbox table and the Maildir files), reply tokens,
the stored bytes of every email addressed to them, and the bytes of other emails that quote
them (a digest with their shared highlight or photo). What they took part in stays, without
who they were: their person row becomes "a former member" with a tombstone address, so
decisions, sign-ups, RSVPs and digest counts keep their numbers. An erasure record (when, by
whom, how many rows per table, never whose) stays. SQLite overwrites deleted bytes
(``secure_delete``) and the write-ahead log is emptied afterwards.

Not reached: copies outside the home (backups, the recipients' own mailboxes, files a lead
keeps elsewhere); ``Erasure.still_named`` lists the home's files that still name them.
"""
from __future__ import annotations

import binascii
import email
import email.policy
import hashlib
import html
import mmap
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from mailer import membership
from mailer.store import (calls, challenges, charters, checkpoint, digests, files, inbox, meetups, outbox, people,
                          planning, preferences, secure_delete, tokens)
from mailer.store import lead_access

SNIPPET = 60  # characters of a text looked for elsewhere: enough to be theirs, short enough to survive a quote
SHORTEST = 20  # a shorter text ("Done.") says nothing about anyone and would match everywhere


@dataclass(frozen=True)
class Needles:
    """What marks a stored message as being about the person: addresses, name, texts, files."""

    words: tuple[str, ...]
    hashes: frozenset[str]

    def found_in(self, raw: bytes) -> bool:
        """Whether ``raw`` (an email, as stored) names or quotes the person."""
        if not raw:
            return False
        if self.in_text(binascii.a2b_qp(raw)):  # our own mail: quoted-printable
            return True
        if b"base64" not in raw.lower():
            return False
        return _parts_name(email.message_from_bytes(raw, policy=email.policy.default), self)

    def in_text(self, data: bytes) -> bool:
        """Whether decoded text names them; the fast byte search first (most of a big outbox
        is read here), HTML entities only when the text has any."""
        flat = b" ".join(data.lower().split())
        if any(word.encode() in flat for word in self.words):
            return True
        return b"&" in flat and _has_any(comparable(flat), self.words)


@dataclass
class Erasure:
    """What an erasure removed (or, not confirmed, would remove)."""

    counts: dict[str, int]
    files: list[Path]
    record_id: int | None = None
    still_named: list[Path] = field(default_factory=list)
    wal_emptied: bool = True


class _NotConfirmed(Exception):
    """Raised inside the transaction of a preview to roll it back."""


def erase(db: Database, mail_dir: Path, home: Path, email_address: str, now: datetime, by: str,
          confirmed: bool) -> Erasure:
    """Forget the person with this address; with ``confirmed`` False, only say what would go."""
    person = membership.person_by_email(db, email_address)
    pid, addresses = person["id"], [a.lower() for a in people.addresses_of(db, person["id"])]
    needles = _needles(db, person, addresses)
    found = [path for path in _mail_files(mail_dir) if needles.found_in(path.read_bytes())]
    result = Erasure({}, found)
    secure_delete(db, True)
    try:
        with db.atomic():
            result.counts = _erase_rows(db, pid, addresses, needles)
            result.counts["mail_files"] = len(found)
            if not confirmed:
                raise _NotConfirmed
            result.record_id = people.record_erasure(db, now, by, result.counts)
            for path in found:
                path.unlink(missing_ok=True)
    except _NotConfirmed:
        return result
    finally:
        secure_delete(db, False)
    result.wal_emptied = checkpoint(db)
    result.still_named = _still_named(home, addresses)
    return result


def _erase_rows(db: Database, pid: int, addresses: list[str], needles: Needles) -> dict[str, int]:
    """One erase verb per store; the person's own row last (it names the tombstone)."""
    tomb = people.tombstone_address(pid)
    counts: dict[str, int] = {}
    for part in (outbox.erase_person(db, addresses, needles.found_in),
                 inbox.erase_person(db, addresses, needles.found_in),
                 tokens.erase_person(db, pid), files.erase_person(db, pid),
                 challenges.erase_person(db, pid, addresses, tomb),
                 charters.erase_person(db, pid, addresses, tomb), calls.erase_person(db, addresses, tomb),
                 meetups.erase_person(db, pid, addresses, tomb), digests.erase_person(db, pid),
                 planning.erase_person(db, addresses), preferences.erase_person(db, pid),
                 lead_access.erase_person(db, pid),
                 people.erase_person(db, pid)):
        counts.update(part)
    return counts


def _needles(db: Database, person: dict, addresses: list[str]) -> Needles:
    texts = [*challenges.written_by(db, person["id"]), *charters.written_by(db, person["id"]),
             *meetups.written_by(db, person["id"])]
    plain = [comparable(text.encode()) for text in texts]
    snippets = {text[:SNIPPET] for text in plain if len(text) >= SHORTEST}
    name = comparable(person["name"].encode())
    named = (name,) if len(name.split()) >= 2 else ()  # "Sam" alone is in too many words
    return Needles((*addresses, *named, *sorted(snippets)), frozenset(files.hashes_of(db, person["id"])))


def comparable(data: bytes) -> str:
    """Text as compared: HTML entities read, whitespace runs as one space, lower case."""
    return " ".join(html.unescape(data.decode("utf-8", "replace")).split()).lower()


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def _parts_name(msg: email.message.EmailMessage, needles: Needles) -> bool:
    """Whether a decoded part of ``msg`` names the person or is one of their files."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text":
            if needles.in_text(payload):
                return True
        elif hashlib.sha256(payload).hexdigest() in needles.hashes:
            return True
    headers = " ".join(str(msg.get(h, "")) for h in ("From", "To", "Cc", "Subject"))
    return _has_any(comparable(headers.encode()), needles.words)


def _mail_files(mail_dir: Path) -> list[Path]:
    """Every message file under the Maildir root (the outbox index holds no addresses)."""
    if not mail_dir.is_dir():
        return []
    return sorted(Path(root) / name for root, _, names in os.walk(mail_dir) if "outbox-index" not in root
                  for name in names)


def _still_named(home: Path, addresses: list[str]) -> list[Path]:
    """Files in the home that still hold one of the addresses: a CSV or TOML a lead keeps there,
    or the database when another process kept its old pages in the write-ahead log."""
    pattern = re.compile("|".join(re.escape(a) for a in addresses).encode(), re.IGNORECASE)
    found = []
    for root, _, names in os.walk(home):
        for path in (Path(root) / name for name in names):
            try:
                if path.stat().st_size and _holds(path, pattern):
                    found.append(path)
            except OSError:
                continue
    return sorted(found)


def _holds(path: Path, pattern: re.Pattern[bytes]) -> bool:
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return pattern.search(data) is not None
