"""The servers behind the test rig: Dovecot's config and process, and the SMTP front end's handler.

Used by ``tests/rig.py``, which assembles them into the ``mail_rig`` fixture. Facts about running
Dovecot without systemd come from notes/test-rig.md.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import grp
import itertools
import json
import os
import pwd
import re
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
_XOAUTH2 = re.compile("user=([^\x01]+)\x01auth=Bearer ([^\x01]+)\x01\x01")
# RFC 4954 §4: an AUTH command line may be 12,288 octets (OAuth tokens run to thousands of
# characters); aiosmtpd reads 512 per command and 1,001 per line unless told otherwise.
AUTH_LINE_LIMIT = 12288
GOOGLE_SCOPE = "https://mail.google.com/"  # the scope named in the rig's XOAUTH2 error challenge


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different loopback TCP ports nobody listens on right now. Each socket stays
    bound until all are picked: the kernel may hand out a port just closed again, and two
    servers of the rig given the same port would not start."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]


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
    is read on its first lookup. XOAUTH2 and OAUTHBEARER logins go to the oauth2 passdb first
    (``dovecot-oauth2.conf.ext``, written by ``oauth2_passdb_config``); the passwd-files take
    passwords and LMTP's user lookups (a passdb limited to some mechanisms is skipped for those).
    No authentication penalty: a refused login would otherwise slow every later login from
    127.0.0.1 by 2 to 15 seconds (https://doc.dovecot.org/2.3/configuration_manual/authentication/auth_penalty/).
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
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%n
mail_fsync = never
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}
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
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
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


def oauth2_passdb_config(introspection_url: str) -> str:
    """Dovecot 2.3's oauth2 passdb settings: every token is posted to the rig's introspection
    endpoint (https://doc.dovecot.org/2.3/configuration_manual/authentication/oauth2/); the
    ``username`` it answers must be the login's user part (``mailer7`` for ``mailer7@example.test``)."""
    return f"""\
introspection_mode = post
introspection_url = {introspection_url}
username_attribute = username
username_format = %n
active_attribute = active
active_value = true
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
        self.authority = None  # tests.oauth_provider.OAuthAuthority: what an XOAUTH2 token may do
        self.xoauth2_seen: list[tuple[str, str]] = []  # (user, token) of every XOAUTH2 attempt

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

    async def auth_XOAUTH2(self, server, args: list[str]):  # noqa: N802 - aiosmtpd finds auth_<MECHANISM>
        """SASL XOAUTH2 as Google and Microsoft take it: ``user=U^Aauth=Bearer T^A^A`` (base64), the
        token valid for U's mailbox; else a 334 challenge carrying the error JSON, then 535."""
        from aiosmtpd.smtp import MISSING, AuthResult

        blob = args[1].encode() if len(args) > 1 else await server.challenge_auth("")
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        try:
            text = base64.b64decode(blob, validate=True).decode("ascii") if len(args) > 1 else blob.decode("ascii")
        except (ValueError, UnicodeDecodeError):
            text = ""
        match = _XOAUTH2.fullmatch(text)
        user, token = match.groups() if match else ("", "")
        with self.lock:
            self.xoauth2_seen.append((user, token))
        allowed = self.authority.mailbox_for(token) if self.authority and match else None
        if match and allowed is not None and user.partition("@")[0] == allowed:
            return AuthResult(success=True, auth_data=user)
        error = {"status": "401", "schemes": "bearer", "scope": GOOGLE_SCOPE}
        if await server.challenge_auth(json.dumps(error)) is MISSING:  # the client should answer ""
            return AuthResult(success=False, handled=True)  # "*": aiosmtpd answered 501 already
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")

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


def rig_controller(handler, **kwargs):
    """An aiosmtpd ``Controller`` whose servers take AUTH lines up to ``AUTH_LINE_LIMIT`` (a real
    token does not fit aiosmtpd's 512) while DATA lines keep RFC 5321's 1,000 characters."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class LongAuthSMTP(SMTP):
        line_length_limit = AUTH_LINE_LIMIT  # the stream reader's limit, taken in SMTP.__init__

        def __init__(self, *args, **kw) -> None:
            super().__init__(*args, **kw)
            self.line_length_limit = SMTP.line_length_limit  # DATA lines: checked against this
            self.command_size_limits["AUTH"] = AUTH_LINE_LIMIT

    class RigController(Controller):
        def factory(self):
            return LongAuthSMTP(self.handler, **self.SMTP_kwargs)

    return RigController(handler, **kwargs)
