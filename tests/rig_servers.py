"""The servers behind the test rig: Dovecot's config and process, and the SMTP front end's handler.

Used by ``tests/rig.py``, which assembles them into the ``mail_rig`` fixture. Facts about running
Dovecot without systemd come from notes/test-rig.md.
"""
from __future__ import annotations

import asyncio
import grp
import itertools
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

DOMAIN = "example.test"
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, deadline: float, alive=lambda: True) -> bool:
    """Connect until ``port`` answers, the deadline passes, or ``alive()`` turns false."""
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def dovecot_binary() -> str | None:
    """Path of the dovecot binary (it lives in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def run_as() -> tuple[str, str]:
    """User and group the services run as: nobody when root, else whoever we are."""
    if os.geteuid() == 0:
        return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


def dovecot_config(root: Path, imap_port: int, imaps_port: int, lmtp_port: int, user: str, group: str) -> str:
    """The dovecot.conf of notes/test-rig.md (blocks must span lines: one-liners are errors).

    One passwd-file per user (``users/<name>``): Dovecot looks at a passwd-file at most once a
    second, so a user appended to a shared file can stay unknown for up to a second; a new file
    is read on its first lookup.
    """
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = testrig-{os.getpid()}
protocols = imap lmtp
listen = {HOST}
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%n
mail_fsync = never
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {root}/users/%n
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%n
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {HOST}
    port = {lmtp_port}
  }}
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
protocol lmtp {{
  postmaster_address = postmaster@{DOMAIN}
}}
lmtp_save_to_detail_mailbox = no
recipient_delimiter = +
"""


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (EC keys: made in milliseconds)."""
    folder.mkdir(mode=0o755)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "7", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def lmtp_deliver(port: int, mail_from: str, rcpt_tos: list[str], data: bytes) -> str:
    """Hand one message to Dovecot's LMTP; return the SMTP reply the front end should give.

    LMTP answers once per accepted recipient after DATA (RFC 2033); smtplib's ``data`` reads
    only the first of those replies, so the rest are read here.
    """
    try:
        with smtplib.LMTP(HOST, port, timeout=10) as lmtp:
            lmtp.ehlo()  # smtplib.LMTP sends LHLO for ehlo()
            code, reply = lmtp.mail(mail_from)
            if code != 250:
                return _reply(code, reply)
            refusals = [(c, r) for c, r in (lmtp.rcpt(rcpt) for rcpt in rcpt_tos) if c != 250]
            if len(refusals) == len(rcpt_tos):
                return _reply(*refusals[0])  # e.g. 550 5.1.1 User doesn't exist
            finals = [lmtp.data(data)] + [lmtp.getreply() for _ in range(len(rcpt_tos) - len(refusals) - 1)]
    except smtplib.SMTPResponseException as exc:
        return _reply(exc.smtp_code, exc.smtp_error)
    except (OSError, smtplib.SMTPException) as exc:
        return f"451 4.3.0 LMTP delivery failed: {exc}"
    failed = [(c, r) for c, r in finals if c != 250]
    return _reply(*failed[0]) if len(failed) == len(finals) else "250 2.0.0 delivered"


def _reply(code: int, text: bytes | str) -> str:
    """An SMTP reply line from a code and the (possibly bytes) text."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {text}"


@dataclass
class Fault:
    """One planned misbehaviour at the end of DATA ("pass" behaves; it only counts a message)."""

    action: str  # "reply", "drop", "hold" or "pass"
    code: int = 0
    deliver: bool = True
    # "hold": set ``reached`` once the message is in (and delivered), answer when ``release`` is set.
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class RelayStats:
    """What the SMTP front end saw: sessions per envelope sender, and messages accepted."""

    sessions_by_sender: dict[str, set[int]] = field(default_factory=dict)
    delivered: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


class LmtpRelay:
    """aiosmtpd handler: checks recipients, applies planned faults, delivers over LMTP."""

    def __init__(self, lmtp_port: int, mailbox_names: set[str]) -> None:
        self.lmtp_port = lmtp_port
        self.names = mailbox_names
        self.faults: deque[Fault] = deque()
        self.stats = RelayStats()
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)
        self.open_sessions: list = []  # aiosmtpd SMTP protocol objects, to close on request

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        """Refuse unknown mailboxes at RCPT, as a real server does (plus-detail ignored)."""
        local, _, domain = address.rpartition("@")
        if domain.lower() != DOMAIN or local.split("+", 1)[0] not in self.names:
            return f"550 5.1.1 <{address}>: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        """Deliver, unless a fault was planned for this message."""
        self._count_session(session, envelope.mail_from)
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.action == "reply":
            return f"{fault.code} {'4.3.0' if fault.code < 500 else '5.7.1'} refused by the test rig"
        reply = "250 2.0.0 not delivered (fault)"
        if fault is None or fault.deliver:
            reply = await asyncio.to_thread(lmtp_deliver, self.lmtp_port, envelope.mail_from,
                                            list(envelope.rcpt_tos), envelope.original_content)
        if fault is not None and fault.action == "drop":
            server.transport.abort()  # no reply at all: the client cannot know the outcome
        elif fault is not None and fault.action == "hold":
            fault.reached.set()
            await asyncio.to_thread(fault.release.wait, 120)  # the test releases it (or teardown)
        if reply.startswith("250"):
            with self.lock:
                self.stats.delivered.append((envelope.mail_from, tuple(envelope.rcpt_tos)))
        return reply

    async def handle_EHLO(self, server, session, envelope, hostname: str, responses: list[str]) -> list[str]:
        """Remember the connection so a test can make the server hang up on it."""
        session.host_name = hostname
        with self.lock:
            self.open_sessions = [s for s in self.open_sessions if s.transport is not None and not s.transport.is_closing()]
            self.open_sessions.append(server)
        return responses

    def _count_session(self, session, sender: str) -> None:
        # A VERP sender (local+b-ID@domain, one per email) counts as its mailbox local@domain.
        local, at, domain = sender.partition("@")
        sender = local.partition("+")[0] + at + domain
        if not hasattr(session, "rig_number"):
            session.rig_number = next(self.numbers)
        with self.lock:
            self.stats.sessions_by_sender.setdefault(sender, set()).add(session.rig_number)


def stop_process(proc: subprocess.Popen) -> None:
    """TERM the Dovecot master (it stops its children), KILL its group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
