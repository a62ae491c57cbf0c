"""Real mail servers for tests: Dovecot (IMAP + LMTP) behind an aiosmtpd SMTP front end.

A pytest plugin (``pytest_plugins = ["tests.rig"]``). The session fixture ``mail_rig`` starts
Dovecot in a temp folder without systemd (notes/test-rig.md) and an aiosmtpd server that
authenticates against the same users and hands each message to Dovecot over LMTP, so mail sent
over SMTP can be read back over IMAP. ``rig_users`` gives each test fresh mailboxes.

Faults for tests: ``fail_next(n, code)`` answers the next n DATA with 451 or 550,
``drop_next(n)`` closes the connection after the message arrived without answering (the client
cannot know whether it was accepted), ``stall_next(n, seconds)`` answers late.
"""
from __future__ import annotations

import asyncio
import atexit
import dataclasses
import grp
import itertools
import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from mailer.transports.smtp_imap import SmtpImapSettings

DOMAIN = "example.test"
HOST = "127.0.0.1"
BASE_USERS = ("mailer", "alice", "bob", "carol")
DATA_SIZE_LIMIT = 2 * 1024 * 1024
STARTUP_SECONDS = 15.0

# The rig asks for AUTH over plain loopback on purpose (no certificates to manage); aiosmtpd
# warns about that on every connection.
AUTH_WARNING = "ignore:Requiring AUTH while not requiring TLS:UserWarning"


def pytest_configure(config) -> None:
    """Silence aiosmtpd's warning about AUTH without TLS (deliberate on loopback)."""
    config.addinivalue_line("filterwarnings", AUTH_WARNING)


@dataclass(frozen=True)
class RigUser:
    """A mailbox on the rig: log in with name and password, mail it at ``address``."""

    name: str
    password: str

    @property
    def address(self) -> str:
        """``name@example.test``."""
        return f"{self.name}@{DOMAIN}"


class RigError(RuntimeError):
    """The rig could not start; the message carries Dovecot's log."""


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


def _run_as() -> tuple[str, str]:
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
    """One planned misbehaviour at the end of DATA."""

    action: str  # "reply", "drop" or "stall"
    code: int = 0
    seconds: float = 0.0
    deliver: bool = True


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
        elif fault is not None:
            await asyncio.sleep(fault.seconds)
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
        if not hasattr(session, "rig_number"):
            session.rig_number = next(self.numbers)
        with self.lock:
            self.stats.sessions_by_sender.setdefault(sender, set()).add(session.rig_number)


class MailRig:
    """The running servers and what tests need from them."""

    def __init__(self, root: Path, binary: str) -> None:
        self.root, self.binary = root, binary
        self.host = HOST
        self.imap_port, self.imaps_port, self.lmtp_port = free_port(), free_port(), free_port()
        self.smtp_port, self.smtps_port = free_port(), free_port()
        self.ca_file = str(root / "tls" / "cert.pem")
        self.users: dict[str, RigUser] = {}
        self.relay = LmtpRelay(self.lmtp_port, set())
        self.data_size_limit = DATA_SIZE_LIMIT
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._dovecot: subprocess.Popen | None = None
        self._controllers: list = []

    # --- users -------------------------------------------------------------------------
    def add_user(self, prefix: str, exact: bool = False) -> RigUser:
        """A brand-new mailbox named ``<prefix><n>`` (or ``prefix`` itself when ``exact``).

        Users can be added while Dovecot runs (each has its own passwd-file).
        """
        with self._lock:
            name = prefix if exact else f"{prefix}{next(self._counter)}"
            user = RigUser(name, f"pw-{name}-{os.urandom(4).hex()}")
            (self.root / "users" / name).write_text(f"{user.name}:{{PLAIN}}{user.password}\n")
            self.users[name] = user
            self.relay.names.add(name)
        return user

    def fresh_users(self, prefixes=BASE_USERS) -> dict[str, RigUser]:
        """One new mailbox per prefix, keyed by prefix (``{"alice": alice7, ...}``)."""
        return {prefix: self.add_user(prefix) for prefix in prefixes}

    def _user(self, user: RigUser | str) -> RigUser:
        return user if isinstance(user, RigUser) else self.users[user]

    def smtp_settings(self, user: RigUser | str, security: str = "none", **overrides) -> SmtpImapSettings:
        """Transport settings that send as ``user`` and read ``user``'s mailbox.

        ``security`` ("none", "starttls", "tls") picks the ports for both protocols and trusts
        the rig's self-signed certificate; ``overrides`` replace any other field.
        """
        u = self._user(user)
        tls = security == "tls"
        base = SmtpImapSettings(
            smtp_host=HOST, smtp_port=self.smtps_port if tls else self.smtp_port, smtp_security=security,
            smtp_user=u.name, smtp_password=u.password, imap_host=HOST,
            imap_port=self.imaps_port if tls else self.imap_port, imap_security=security,
            imap_user=u.name, imap_password=u.password, timeout=10.0, ca_file=self.ca_file)
        return dataclasses.replace(base, **overrides)

    @contextmanager
    def imap_client(self, user: RigUser | str) -> Iterator:
        """A logged-in IMAPClient on ``user``'s mailbox, logged out afterwards."""
        from imapclient import IMAPClient

        u = self._user(user)
        client = IMAPClient(HOST, self.imap_port, ssl=False, timeout=10)
        client.login(u.name, u.password)
        try:
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - a test may have broken the connection on purpose
                pass

    # --- faults and what the SMTP side saw ---------------------------------------------
    def fail_next(self, n: int, code: int) -> None:
        """Answer the next ``n`` DATA with ``code`` (e.g. 451, 550) instead of delivering."""
        self._plan(n, Fault("reply", code=code))

    def drop_next(self, n: int = 1, deliver: bool = True) -> None:
        """After the next ``n`` messages arrive, close the connection without replying."""
        self._plan(n, Fault("drop", deliver=deliver))

    def stall_next(self, n: int, seconds: float, deliver: bool = True) -> None:
        """Deliver the next ``n`` messages but answer only after ``seconds``."""
        self._plan(n, Fault("stall", seconds=seconds, deliver=deliver))

    def _plan(self, n: int, fault: Fault) -> None:
        with self.relay.lock:
            self.relay.faults.extend([fault] * n)

    def reset_faults(self) -> None:
        """Forget faults a previous test planned but did not use."""
        with self.relay.lock:
            self.relay.faults.clear()

    def smtp_sessions(self, sender: str) -> int:
        """How many SMTP connections reached DATA with ``sender`` as envelope sender."""
        with self.relay.lock:
            return len(self.relay.stats.sessions_by_sender.get(sender, ()))

    def hang_up_smtp(self) -> None:
        """Close every open SMTP connection from the server side, as an idle timeout does."""
        loop = self._controllers[0].loop
        with self.relay.lock:
            servers, self.relay.open_sessions = self.relay.open_sessions, []
        done = threading.Event()

        def close_all() -> None:
            for server in servers:
                server.transport.close()
            done.set()

        loop.call_soon_threadsafe(close_all)
        done.wait(5)

    def kick_imap(self, user: RigUser | str) -> None:
        """Disconnect ``user``'s IMAP sessions (``doveadm kick``), as a server restart would."""
        doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/bin:/usr/sbin")
        subprocess.run([doveadm or "doveadm", "-c", str(self.root / "dovecot.conf"), "kick",
                        self._user(user).name], check=True, capture_output=True, timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        """The end of dovecot.log, for failure messages."""
        log = self.root / "dovecot.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    # --- life cycle --------------------------------------------------------------------
    def start(self) -> "MailRig":
        """Write the config, start Dovecot in the foreground and the SMTP front end."""
        user, group = _run_as()
        for sub in ("run", "state"):
            (self.root / sub).mkdir()
        (self.root / "mail").mkdir(mode=0o777)
        os.chmod(self.root / "mail", 0o777)  # the mail processes run as ``user``, not us
        (self.root / "users").mkdir()
        make_certificate(self.root / "tls")
        (self.root / "dovecot.conf").write_text(dovecot_config(
            self.root, self.imap_port, self.imaps_port, self.lmtp_port, user, group))
        for name in BASE_USERS:
            self.add_user(name, exact=True)
        self._start_dovecot()
        self._start_smtp()
        return self

    def _start_dovecot(self) -> None:
        with open(self.root / "dovecot.out", "wb") as out:  # config errors go to stderr
            self._dovecot = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        alive = lambda: self._dovecot.poll() is None  # noqa: E731
        if not all(wait_for_port(p, deadline, alive) for p in (self.imap_port, self.imaps_port, self.lmtp_port)):
            output = (self.root / "dovecot.out").read_text(errors="replace")
            log = self.log_tail()
            self.stop()
            raise RigError(f"Dovecot did not open ports {self.imap_port}/{self.imaps_port}/{self.lmtp_port}.\n"
                           f"{output}\n--- dovecot.log ---\n{log}")

    def _start_smtp(self) -> None:
        """SMTP with optional STARTTLS on smtp_port, implicit TLS on smtps_port, AUTH required."""
        from aiosmtpd.controller import Controller

        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(self.root / "tls" / "cert.pem", self.root / "tls" / "key.pem")
        common = dict(hostname=HOST, ready_timeout=STARTUP_SECONDS, authenticator=self._authenticate,
                      auth_required=True, auth_require_tls=False, data_size_limit=self.data_size_limit)
        self._controllers = [
            Controller(self.relay, port=self.smtp_port, tls_context=server_tls, **common),
            Controller(self.relay, port=self.smtps_port, ssl_context=server_tls, **common),
        ]
        for controller in self._controllers:
            controller.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        """aiosmtpd authenticator: the rig's users and passwords."""
        from aiosmtpd.smtp import AuthResult

        user = self.users.get(auth_data.login.decode(errors="replace"))
        ok = user is not None and auth_data.password.decode(errors="replace") == user.password
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535

    def stop(self) -> None:
        """Stop the SMTP front end and Dovecot (by pid), then remove the temp folder."""
        while self._controllers:
            self._controllers.pop().stop()
        if self._dovecot is not None:
            _stop_process(self._dovecot)
            self._dovecot = None
        shutil.rmtree(self.root, ignore_errors=True)


def _stop_process(proc: subprocess.Popen) -> None:
    """TERM the Dovecot master (it stops its children), KILL its group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _missing() -> str | None:
    """Why the rig cannot run here, or None."""
    if dovecot_binary() is None:
        return "Dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)"
    try:
        import aiosmtpd  # noqa: F401
        import imapclient  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    return None


def start_rig() -> MailRig:
    """Start a rig in a fresh folder under the system temp dir (the services must reach it)."""
    # Not pytest's tmp_path: its parents are private to us, and Dovecot's processes run as
    # another user when we are root.
    root = Path(tempfile.mkdtemp(prefix="mailrig-"))
    os.chmod(root, 0o755)
    rig = MailRig(root, dovecot_binary() or "dovecot")
    try:
        return rig.start()
    except BaseException:
        rig.stop()
        raise


@pytest.fixture(scope="session")
def mail_rig() -> Iterator[MailRig]:
    """Dovecot + SMTP front end, started once per test run; skips (or fails in CI) without Dovecot."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") or os.environ.get("MAILER_REQUIRE_RIG") == "1":
            pytest.fail(f"the mail test rig is required here: {reason}", pytrace=False)
        pytest.skip(f"mail test rig unavailable: {reason}")
    rig = start_rig()
    atexit.register(rig.stop)  # also if the session ends abnormally
    yield rig
    rig.stop()
    atexit.unregister(rig.stop)


@pytest.fixture
def rig_users(mail_rig: MailRig) -> dict[str, RigUser]:
    """Fresh mailboxes for this test (mailer, alice, bob, carol) and no leftover faults."""
    mail_rig.reset_faults()
    return mail_rig.fresh_users()
