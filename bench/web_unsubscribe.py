"""One-click unsubscribe benchmark: how long `serve` takes to answer a mail provider's RFC 8058
POST in a community of ``--members`` people, against ``GET /health`` on the same server in the
same run (the cost of HTTP on loopback and of uvicorn itself).

    .venv/bin/python -m bench.web_unsubscribe [--members 50000] [--posts 500] [--json] [--workdir DIR]

Set-up (not timed): a home holding ``members`` people over real time zones, all taking part in
the sample 30-day challenge in partner pairs; ``run.py serve`` started on it as its own process; one signed
unsubscribe link per person taking part in the timed run (as the emails would carry).

Timed, each request on a new connection as a provider makes it:
- health: ``GET /health`` (``posts`` times);
- one-click: ``POST /u/TOKEN`` with ``List-Unsubscribe=One-Click`` for ``posts`` different people
  (each stops: a write through the challenge flow's verb and a record of the change);
- again: the same POSTs once more (idempotent: nothing left to change).

Afterwards every one of those people is checked to be stopped. It prints percentiles (the issue
asks for the one-click p95 under 50 ms at 50,000 members); it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from bench.pipeline import CHALLENGE, ZONES  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.flows.challenge.definition import start_challenge  # noqa: E402
from mailer.store import challenges, open_db, people  # noqa: E402
from mailer.web.links import signer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STARTED = datetime(2026, 12, 28, 9, 0, tzinfo=timezone.utc)  # before the sample challenge's first day


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_home(home: Path, members: int, port: int) -> None:
    """A home with ``members`` people, all in the sample challenge and paired, served on ``port``."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "mailer.toml").write_text(f'[mailer]\ndata = "none"\n\n[web]\nbase_url = "http://127.0.0.1:{port}"\n'
                                      f"port = {port}\n", encoding="utf-8")
    db = open_db(home / "mailer.db")
    people.insert_people(db, [(f"member{n:05d}@example.test", f"Member {n:05d}", ZONES[n % len(ZONES)],
                               "member", None) for n in range(members)])
    start_challenge(db, CHALLENGE, STARTED)
    ids = [p["person_id"] for p in challenges.list_participants(db, 1)]
    challenges.form_groups(db, 1, [ids[n:n + 2] for n in range(0, len(ids), 2)], STARTED)  # as day 1 pairs them
    db.close()


def start_server(home: Path, port: int) -> subprocess.Popen:
    """``run.py serve`` on the home, once it answers."""
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home), "serve",
                                "--now", STARTED.isoformat()], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("serve did not start")


def timed_requests(send, items) -> list[float]:
    """Milliseconds each ``send(item)`` took (each must answer 200)."""
    times = []
    for item in items:
        begin = time.perf_counter()
        answer = send(item)
        times.append((time.perf_counter() - begin) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"answered {answer.status_code}")
    return times


def percentiles(times: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max in milliseconds."""
    cuts = statistics.quantiles(times, n=100)
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2),
            "max": round(max(times), 2)}


def measure(members: int, posts: int, workdir: Path) -> dict[str, object]:
    """Set up, time the three kinds of request, check everyone posted for is stopped."""
    port, home = free_port(), workdir / "home"
    begin = time.perf_counter()
    make_home(home, members, port)
    settings = load_settings(home, env={})
    ids = list(range(1, members + 1, max(members // posts, 1)))[:posts]
    urls = [f"{settings.web_base_url}/u/{signer(settings).sign(pid, 'unsubscribe', 'challenge:1', STARTED)}"
            for pid in ids]
    setup = time.perf_counter() - begin
    server = start_server(home, port)
    try:
        health = timed_requests(lambda _: requests.get(f"{settings.web_base_url}/health", timeout=10), ids)
        one_click = timed_requests(lambda url: requests.post(url, data={"List-Unsubscribe": "One-Click"},
                                                             timeout=10), urls)
        again = timed_requests(lambda url: requests.post(url, data={"List-Unsubscribe": "One-Click"},
                                                         timeout=10), urls)
    finally:
        server.terminate()
        server.wait()
    db = open_db(home / "mailer.db")
    stopped = sum(challenges.get_participant(db, 1, pid)["status"] == "stopped" for pid in ids)
    db.close()
    return {"members": members, "posts": len(ids), "setup_s": round(setup, 1), "stopped": stopped,
            "health_ms": percentiles(health), "one_click_ms": percentiles(one_click),
            "again_ms": percentiles(again)}


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.members, args.posts, args.workdir or Path(tmp))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['members']:,} members; {result['posts']} one-click POSTs, each on a new connection "
          f"(set-up {result['setup_s']} s, not timed); {result['stopped']} of {result['posts']} stopped")
    for name in ("health", "one_click", "again"):
        figures = result[f"{name}_ms"]
        print(f"  {name:<10} " + "  ".join(f"{k} {v:6.2f} ms" for k, v in figures.items()))


if __name__ == "__main__":
    main()
