"""A real CalDAV server for tests: Radicale on loopback, started once per test run.

A pytest plugin (``pytest_plugins`` in tests/conftest.py). The session fixture ``caldav`` runs
``python -m radicale --config FILE`` with ``[auth] type = none``, ``[rights] type =
authenticated`` (there is no rights type "none") and storage in a temp folder, on a free port
(notes/test-rig.md), waits until the port answers, and stops it by its pid at the end. Without
Radicale the tests skip, and fail instead where MAILER_REQUIRE_RIG=1 (CI).

``CalDav`` speaks just enough of the protocol with the standard library: MKCOL + MKCALENDAR for
a calendar, PUT of a calendar object, GET, and a calendar-query REPORT with a time-range.
"""
from __future__ import annotations

import atexit
import http.client
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from tests.rig_servers import HOST, free_port, stop_process, wait_for_port

STARTUP_SECONDS = 20.0
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start}" end="{end}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


class CalDav:
    """A running Radicale and a minimal client for it."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.proc: subprocess.Popen | None = None
        self._calendars = 0

    def start(self) -> "CalDav":
        """Write the config, start the server, wait for its port."""
        config = self.root / "radicale.conf"
        config.write_text(f"[server]\nhosts = {HOST}:{self.port}\n\n[auth]\ntype = none\n\n"
                          f"[rights]\ntype = authenticated\n\n[storage]\nfilesystem_folder = {self.root / 'data'}\n\n"
                          "[web]\ntype = none\n\n[logging]\nlevel = warning\n")
        log = open(self.root / "radicale.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for_port(self.port, time.monotonic() + STARTUP_SECONDS, lambda: self.proc.poll() is None):
            self.stop()
            raise RuntimeError(f"Radicale did not start: {self.log_tail()}")
        return self

    def stop(self) -> None:
        """Stop the server by its pid and remove its folder."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        """The end of Radicale's log, for failure messages."""
        path = self.root / "radicale.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None,
                user: str = "alice") -> tuple[int, bytes]:
        """One HTTP request as ``user`` (any name: auth is none); returns (status, body)."""
        import base64

        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        auth = base64.b64encode(f"{user}:x".encode()).decode()
        try:
            conn.request(method, path, body=body.encode() if isinstance(body, str) else body,
                         headers={"Authorization": f"Basic {auth}", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def new_calendar(self, user: str = "alice") -> str:
        """A fresh calendar collection for this test; returns its path (``/alice/cal3/``)."""
        self._calendars += 1
        self.request("MKCOL", f"/{user}/", user=user)  # 201, or 405 when it exists already
        path = f"/{user}/cal{self._calendars}/"
        status, body = self.request("MKCALENDAR", path, user=user)
        assert status == 201, (status, body)
        return path

    def put(self, path: str, data: bytes) -> int:
        """PUT a calendar object; returns the status (201 created, 204 replaced)."""
        return self.request("PUT", path, data, {"Content-Type": "text/calendar; charset=utf-8"})[0]

    def get(self, path: str) -> tuple[int, bytes]:
        """GET a calendar object."""
        return self.request("GET", path)

    def query(self, calendar: str, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(href, calendar-data) of the events overlapping [start, end), by a calendar-query REPORT."""
        body = QUERY.format(start=_stamp(start), end=_stamp(end))
        status, data = self.request("REPORT", calendar, body,
                                    {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
        assert status == 207, (status, data)
        found = []
        for response in ET.fromstring(data).findall("D:response", NS):
            text = response.findtext(".//C:calendar-data", default="", namespaces=NS)
            if text:
                found.append((response.findtext("D:href", default="", namespaces=NS), text))
        return found


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _missing() -> str | None:
    if importlib.util.find_spec("radicale") is None:
        return "radicale is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def caldav() -> Iterator[CalDav]:
    """Radicale on loopback for the whole run; skips (or fails where required) without it."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") or os.environ.get("MAILER_REQUIRE_RIG") == "1":
            pytest.fail(f"the CalDAV test server is required here: {reason}", pytrace=False)
        pytest.skip(f"CalDAV test server unavailable: {reason}")
    server = CalDav(Path(tempfile.mkdtemp(prefix="caldav-"))).start()
    atexit.register(server.stop)
    yield server
    server.stop()
    atexit.unregister(server.stop)
