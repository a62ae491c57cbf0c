"""Photos in project updates: kept with the update like a journal's, and shown to sponsors (as a
thumbnail) only when the update is shareable; a #private update's photo stays in the store."""
from __future__ import annotations

import email
import email.policy
import io
import random
from datetime import datetime, timedelta, timezone
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart

from PIL import Image

from mailer.flows.charter import digest_items
from mailer.outbound.thumbnail import thumbnail
from mailer.simulation.replies import compose_reply
from mailer.store import charters, files
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.charter.test_project import H, approved

UTC = timezone.utc


def photo(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (400, 300), bytes(rng.getrandbits(8) for _ in range(400 * 300 * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def with_photo(raw: bytes, data: bytes, name: str) -> bytes:
    """The same reply with a photo attached, as a phone sends it."""
    original = email.message_from_bytes(raw, policy=email.policy.compat32)
    mixed = MIMEMultipart("mixed")
    for key, value in original.items():
        if key.lower() not in ("content-type", "mime-version", "content-transfer-encoding"):
            mixed[key] = value
    body = MIMEMultipart("alternative")
    for part in original.get_payload():
        body.attach(part)
    mixed.attach(body)
    image = MIMEImage(data, "jpeg")
    image.add_header("Content-Disposition", "attachment", filename=name)
    mixed.attach(image)
    return mixed.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))


def test_a_shared_update_photo_reaches_sponsors_as_a_thumbnail_and_a_private_one_never(world, write_charter):
    cid = approved(world, write_charter)
    world.walk(datetime(2027, 1, 18, tzinfo=UTC), datetime(2027, 1, 18, 20, tzinfo=UTC), H)
    board, secret = photo(1), photo(2)
    for address, name, text, data, when in (
            ("alice@corp.example.com", "Alice Moreau", "Whiteboard from today.", board, 21),
            ("bob@corp.example.com", "Bob Okafor", "Vendor sketch. #private", secret, 22)):
        now = datetime(2027, 1, 18, when, tzinfo=UTC)
        raw = compose_reply(world.latest(address, "check-in 1"), address, name, text, "apple", now)
        deliver_to_inbox(world.settings.mail_dir, with_photo(raw, data, "IMG_0001.JPG"))
        world.tick(now)
    updates = charters.updates(world.db, cid, shareable_only=False)
    kept = files.files_of(world.db, "charter_update", [u["id"] for u in updates], with_data=True)
    assert sorted(f["data"] for found in kept.values() for f in found) == sorted([board, secret])
    (item,) = digest_items(world.db, "sponsor@corp.example.com", datetime(2027, 1, 18, tzinfo=UTC),
                           datetime(2027, 1, 19, tzinfo=UTC) + timedelta(days=1))
    assert [(name, data) for name, data in item.photos] == [("Alice Moreau", thumbnail(board))]
