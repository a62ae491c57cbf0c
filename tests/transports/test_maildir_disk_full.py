"""A full disk while sending into the Maildir: no file left in tmp/, nothing in new/, a retry.

The disk is made "full" for real in a child process: RLIMIT_FSIZE caps the size of any file it
writes (SIGXFSZ ignored, so the write fails with EFBIG as it would with ENOSPC).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from mailer.errors import TemporarySendError
    from mailer.transports.base import Outgoing
    from mailer.transports.maildir import MaildirTransport, ensure_maildir

    root = Path(sys.argv[1])
    transport = MaildirTransport(root)
    ensure_maildir(transport.outbox)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
    data = b"From: a@example.test\\r\\nMessage-ID: <big@example.test>\\r\\n\\r\\n" + b"x" * 200_000
    try:
        transport.send(Outgoing("<big@example.test>", "a@example.test", ("b@example.test",), data))
    except TemporarySendError as exc:
        print("temporary:", exc)
        sys.exit(0)
    print("sent")
""")


def send_with_limit(root: Path, limit: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(root), str(limit)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_a_full_disk_leaves_nothing_in_tmp_and_nothing_half_sent(tmp_path):
    result = send_with_limit(tmp_path, 4096)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("temporary: could not write to")  # the outbox retries it later
    outbox = tmp_path / "outbox"
    assert list((outbox / "tmp").iterdir()) == []
    assert list((outbox / "new").iterdir()) == [] and list((outbox / "cur").iterdir()) == []


def test_with_room_the_same_message_is_sent_whole(tmp_path):
    result = send_with_limit(tmp_path, 10_000_000)
    assert result.stdout.strip() == "sent", result.stderr
    [written] = list((tmp_path / "outbox" / "new").iterdir())
    assert written.stat().st_size > 200_000 and list((tmp_path / "outbox" / "tmp").iterdir()) == []
