"""Kill points for crash tests: ``MAILER_TEST_KILL_AT=<point>[@<n>]`` makes the process kill
itself (SIGKILL, as ``kill -9`` would) the n-th time it reaches ``<point>``.

The points sit at the edges where a crash could lose mail (tests/test_read_crash.py): a
message read from the server (``fetched``), a batch committed to the inbox table (``stored``),
a message filed away (``filed``), a sync position saved (``committed``), one send answered
while others are on the wire over several SMTP connections, or its group not yet recorded
(``sent``, tests/test_send_parallel.py, tests/test_send_groups.py), a group of sends recorded
(``recorded``), and a batch of a tick's plans committed while the
outbox thread sends (``planned``, tests/test_tick_overlap.py). Unset, each check is one
dictionary lookup.
"""
from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT = "MAILER_TEST_KILL_AT"
_reached: Counter[str] = Counter()


def kill_point(name: str) -> None:
    """Die here, at once and without cleanup, if the environment asks for it (tests only)."""
    wanted = os.environ.get(KILL_AT)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
