"""OAuth (SASL XOAUTH2) for SMTP and IMAP against the rig: tokens from msal and google-auth over
real HTTP (the rig's local OAuth provider), checked by the SMTP front end and by Dovecot's oauth2
passdb through the provider's introspection endpoint."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailer.cli import main
from mailer.errors import TemporarySendError, TransportError
from mailer.transports.oauth import GoogleTokens, MicrosoftTokens, OAuthSettings
from mailer.transports.smtp_imap import SmtpImapTransport
from tests.conftest import write_rig_home
from tests.graph_signin import AUTHORITY, RewritingSession
from tests.oauth_provider import RIG_TENANT
from tests.transports.test_smtp_imap import inbox_ids, outgoing

pytestmark = pytest.mark.rig


def microsoft_tokens(rig, client_id: str, secret: str) -> MicrosoftTokens:
    """msal client credentials against the rig's tenant (https for msal, rewritten to the rig)."""
    settings = OAuthSettings("microsoft", tenant_id=RIG_TENANT, client_id=client_id, client_secret=secret,
                             authority=AUTHORITY)
    return MicrosoftTokens(settings, RewritingSession(rig.authority.base))


def issued_to(rig, user) -> list[str]:
    """Every token the rig's provider issued for ``user``'s mailbox, oldest first."""
    with rig.authority.lock:
        return [token for token, grant in rig.authority.tokens.items() if grant.mailbox == user.name]


@pytest.fixture
def oauth_transport(mail_rig):
    """``make(user, tokens)``: a transport logging in to SMTP and IMAP as ``user`` with XOAUTH2."""
    made: list[SmtpImapTransport] = []

    def make(user, tokens, login=None) -> SmtpImapTransport:
        login = login or user.name
        transport = SmtpImapTransport(mail_rig.smtp_settings(
            user, smtp_user=login, smtp_password="", imap_user=login, imap_password="",
            smtp_tokens=tokens, imap_tokens=tokens))
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


def test_msal_token_sends_over_smtp_and_reads_over_imap(mail_rig, rig_users, oauth_transport):
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    transport = oauth_transport(mailer, microsoft_tokens(mail_rig, *mail_rig.oauth_app(mailer)))
    mail = outgoing(mailer, [alice, mailer])
    transport.send(mail)
    (token,) = issued_to(mail_rig, mailer)
    assert mail_rig.relay.xoauth2_seen[-1] == (mailer.name, token)  # the exact SASL user and token
    assert len(inbox_ids(mail_rig, alice, mail.message_id)) == 1
    (fetched,) = list(transport.fetch())  # Dovecot's oauth2 passdb took the same token
    assert fetched.raw.endswith(mail.data)
    assert issued_to(mail_rig, mailer) == [token]  # SMTP and IMAP shared one kept token


def test_the_kept_token_serves_new_connections_until_it_expires(mail_rig, rig_users, oauth_transport):
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    tokens = microsoft_tokens(mail_rig, *mail_rig.oauth_app(mailer))
    for _ in range(2):
        transport = oauth_transport(mailer, tokens)
        transport.send(outgoing(mailer, alice))
        transport.close()
    assert len(issued_to(mail_rig, mailer)) == 1
    # A token that lives less than msal's 5-minute margin is renewed for each connection.
    short = microsoft_tokens(mail_rig, *mail_rig.oauth_app(alice, lifetime=60))
    for _ in range(2):
        oauth_transport(alice, short).send(outgoing(alice, mailer))
    first, second = issued_to(mail_rig, alice)
    assert [seen for seen in mail_rig.relay.xoauth2_seen[-2:]] == [(alice.name, first), (alice.name, second)]


def test_a_refused_kept_token_is_replaced_once_for_smtp_and_imap(mail_rig, rig_users, oauth_transport):
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    tokens = microsoft_tokens(mail_rig, *mail_rig.oauth_app(mailer))
    transport = oauth_transport(mailer, tokens)
    transport.send(outgoing(mailer, mailer))
    list(transport.fetch())
    transport.close()
    mail_rig.authority.expire()  # the provider ends it early; msal's cache still holds it
    mail = outgoing(mailer, alice)
    transport.send(mail)
    old, new = issued_to(mail_rig, mailer)
    assert mail_rig.relay.xoauth2_seen[-2:] == [(mailer.name, old), (mailer.name, new)]
    assert len(inbox_ids(mail_rig, alice, mail.message_id)) == 1
    mail_rig.authority.expire()
    transport.close()
    assert len(list(transport.fetch())) == 1  # Dovecot refused the kept one, took a third
    assert len(issued_to(mail_rig, mailer)) == 3


def test_a_token_for_another_mailbox_is_refused_with_the_servers_reason(mail_rig, rig_users, oauth_transport):
    mailer, alice = rig_users["mailer"], rig_users["alice"]
    transport = oauth_transport(mailer, microsoft_tokens(mail_rig, *mail_rig.oauth_app(alice)))
    with pytest.raises(TemporarySendError) as sent:
        transport.send(outgoing(mailer, alice))
    assert "535 5.7.8" in str(sent.value)
    assert "status 401, schemes bearer, scope https://mail.google.com/" in str(sent.value)
    assert len(issued_to(mail_rig, alice)) == 2  # the kept token, then one new one: no loop
    with pytest.raises(TransportError) as read:
        list(transport.fetch())
    assert "status 401, schemes bearer, scope mail" in str(read.value)  # Dovecot's challenge, decoded


def test_a_wrong_secret_says_what_the_provider_answered(mail_rig, rig_users, oauth_transport):
    mailer = rig_users["mailer"]
    client_id, _ = mail_rig.oauth_app(mailer)
    transport = oauth_transport(mailer, microsoft_tokens(mail_rig, client_id, "not-the-secret"))
    with pytest.raises(TemporarySendError, match="invalid_client: AADSTS7000215"):
        transport.send(outgoing(mailer, mailer))
    with pytest.raises(TransportError, match="invalid_client"):
        list(transport.fetch())
    lines = {line.what: line for line in transport.check()}
    assert not lines["OAuth token"].ok and "AADSTS7000215" in lines["OAuth token"].detail


def google_key_file(rig, folder: Path, lifetime: int = 3600) -> Path:
    """A service account key (JSON, as the Google Cloud console downloads it) whose token
    endpoint is the rig's; the account has domain-wide delegation for the rig's domain."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    email = rig.authority.register_service_account(public, lifetime)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = folder / "service-account.json"
    path.write_text(json.dumps({"type": "service_account", "project_id": "rig-project", "private_key_id": "k1",
                                "private_key": private, "client_email": email, "client_id": "1",
                                "token_uri": f"{rig.authority.base}/google/token"}))
    os.chmod(path, 0o600)
    return path


def test_google_service_account_through_mailer_toml_and_check(mail_rig, tmp_path):
    user = mail_rig.fresh_users(("gmailer",))["gmailer"]
    home = tmp_path / "home"
    home.mkdir()
    google_key_file(mail_rig, home)
    login = {"user": user.address, "password": "", "auth": "xoauth2"}
    write_rig_home(home, mail_rig, user, smtp=login, imap=login,
                   oauth={"provider": "google", "key_file": "service-account.json"})
    result = CliRunner().invoke(main, ["--home", str(home), "check"])
    assert "ok    OAuth token" in result.output and "ok    log in" in result.output, result.output
    assert "ok    send" in result.output
    (token,) = issued_to(mail_rig, user)
    assert (user.address, token) in mail_rig.relay.xoauth2_seen  # sub = the mailbox, one kept token


def test_google_refuses_a_mailbox_outside_the_delegated_domain(mail_rig, rig_users, tmp_path, oauth_transport):
    mailer = rig_users["mailer"]
    settings = OAuthSettings("google", key_file=str(google_key_file(mail_rig, tmp_path)))
    transport = oauth_transport(mailer, GoogleTokens(settings, "someone@elsewhere.test"), login=mailer.address)
    with pytest.raises(TemporarySendError, match="Google refused a token for someone@elsewhere.test: "
                                                 "unauthorized_client"):
        transport.send(outgoing(mailer, mailer))


def write_home(home: Path, oauth: str, smtp_user: str = "cop@corp.example") -> Path:
    """A home sending and reading with XOAUTH2; ``oauth`` is the [oauth] table's text."""
    home.mkdir(exist_ok=True)
    (home / "mailer.toml").write_text(
        f'[mailer]\ndata = "none"\n[transport]\nkind = "smtp-imap"\n'
        f'[smtp]\nauth = "xoauth2"\nuser = "{smtp_user}"\n[imap]\nauth = "xoauth2"\nuser = "cop@corp.example"\n'
        f"[oauth]\n{oauth}\n")
    return home


def test_microsoft_settings_give_one_token_source_for_smtp_and_imap(tmp_path):
    from mailer.config import load_settings
    from mailer.transports import make_transport

    home = write_home(tmp_path / "home", 'tenant_id = "t"\nclient_id = "c"')
    transport = make_transport(load_settings(home, env={"MAILER_OAUTH_CLIENT_SECRET": "s"}))
    assert isinstance(transport.settings.smtp_tokens, MicrosoftTokens)
    assert transport.settings.smtp_tokens is transport.settings.imap_tokens  # one msal cache
    assert transport.settings.smtp_password == ""


@pytest.mark.parametrize("oauth, env, user, expected", [
    ('tenant_id = "t"', {}, "cop@corp.example", "oauth.client_id is empty"),
    ('tenant_id = "t"\nclient_id = "c"', {}, "cop@corp.example", "needs MAILER_OAUTH_CLIENT_SECRET"),
    ('tenant_id = "t"\nclient_id = "c"', {"MAILER_OAUTH_CLIENT_SECRET": "s"}, "", "smtp.user is empty"),
    ('provider = "google"', {}, "cop@corp.example", "oauth.key_file is empty"),
    ('provider = "google"\nkey_file = "missing.json"', {}, "cop@corp.example", "cannot read it as JSON"),
])
def test_unusable_oauth_settings_are_refused_with_the_key(tmp_path, oauth, env, user, expected):
    from mailer.config import load_settings
    from mailer.errors import ConfigError
    from mailer.transports import make_transport

    home = write_home(tmp_path / "home", oauth, smtp_user=user)
    with pytest.raises(ConfigError, match=expected):
        make_transport(load_settings(home, env=env))


def test_a_google_key_others_can_read_is_refused(tmp_path):
    from mailer.config import load_settings
    from mailer.errors import ConfigError
    from mailer.transports import make_transport

    home = write_home(tmp_path / "home", 'provider = "google"\nkey_file = "key.json"')
    (home / "key.json").write_text('{"type": "service_account"}')
    os.chmod(home / "key.json", 0o644)
    with pytest.raises(ConfigError, match="others can read it"):
        make_transport(load_settings(home, env={}))
    os.chmod(home / "key.json", 0o600)
    assert isinstance(make_transport(load_settings(home, env={})).settings.imap_tokens, GoogleTokens)


def test_the_xoauth2_initial_response_is_exactly_as_documented():
    from mailer.transports.oauth import Xoauth2Answer, explain_refusal

    answer = Xoauth2Answer("cop@corp.example", "tok")
    assert answer() == "user=cop@corp.example\x01auth=Bearer tok\x01\x01"
    assert answer(b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}') == ""
    assert "status 400, schemes Bearer, scope https://mail.google.com/" in explain_refusal(answer.challenge)
    assert explain_refusal(None) == "" and "not json" in explain_refusal(b"not json")
