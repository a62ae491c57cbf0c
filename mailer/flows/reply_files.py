"""Files that come with a reply which becomes an entry: a journal entry, a project update, a
meetup highlight. The same rules for every flow (``inbound.attachments.choose``), one store.

Files belong to their entry and its author: they reach others only as small thumbnails in a
digest, and only from entries the author chose to share.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.flows.base import RoutedReply
from mailer.inbound.attachments import Choice, choose
from mailer.outbound.thumbnail import thumbnail
from mailer.store import files

PHOTOS = 3  # thumbnails per digest item


def choice_of(reply: RoutedReply) -> Choice:
    """Which of the reply's files are the person's, within the limits, and why not the others."""
    message = reply.message
    # The HTML part (decoded on first read) tells quoted images from the person's own: only
    # a reply with files needs it.
    return choose(message.files, message.html if message.files else None)


def keep(db: Database, kind: str, entry_id: int, person_id: int, choice: Choice, now: datetime) -> None:
    """Store the kept files of ``choice`` with the entry (whole, or as a name and size only)."""
    rows = [(f.filename, f.mime_type, f.data if whole else None, f.sha256, f.size) for f, whole in choice.kept]
    files.attach(db, kind, entry_id, person_id, rows, now)


def shared_thumbnails(db: Database, kind: str, shared: list[tuple[int, int, str]]) -> tuple[tuple[str, bytes], ...]:
    """Thumbnails of the photos of shared entries: ``shared`` is (entry id, author id, author name)."""
    found = files.files_of(db, kind, sorted({entry for entry, _, _ in shared}), with_data=True,
                           person_ids=sorted({person for _, person, _ in shared}))
    photos = []
    for entry, person, name in shared:
        for item in found.get(entry, []):
            if item["person_id"] == person and item["kept"] and item["mime_type"].startswith("image/"):
                small = thumbnail(item["data"])
                if small:
                    photos.append((name, small))
    return tuple(photos[:PHOTOS])
