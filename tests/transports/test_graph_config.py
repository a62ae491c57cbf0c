"""``[transport] kind = "graph"`` and the ``[graph]`` section: defaults, the secret, refusals."""
from __future__ import annotations

import pytest

from mailer.config import load_settings
from mailer.errors import ConfigError
from mailer.transports import make_transport
from mailer.transports.graph import GraphTransport
from mailer.transports.graph_http import MsalTokens, NoTokens, scope_for

PEM = ("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
       "-----BEGIN CERTIFICATE-----\nMIID\n-----END CERTIFICATE-----\n")  # shape only: msal reads it later
APP = 'tenant_id = "contoso.onmicrosoft.com"\nclient_id = "11111111-2222-3333-4444-555555555555"\n'


def home_with(tmp_path, text: str):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@contoso.example"\n' + text)
    return home


def test_graph_paces_like_exchange_online_unless_told(tmp_path):
    home = home_with(tmp_path, '[transport]\nkind = "graph"\n')
    assert load_settings(home, env={}).rate_limits == (30, 10_000)
    home = home_with(tmp_path, '[transport]\nkind = "graph"\npace = "none"\n')
    assert load_settings(home, env={}).rate_limits == (0, 0)
    home = home_with(tmp_path, '[transport]\nkind = "smtp-imap"\n')
    assert load_settings(home, env={}).rate_limits == (0, 0)


def test_secret_comes_from_the_environment(tmp_path):
    home = home_with(tmp_path, f'[transport]\nkind = "graph"\n[graph]\n{APP}')
    settings = load_settings(home, env={"MAILER_GRAPH_CLIENT_SECRET": "from-env"})
    transport = make_transport(settings)
    assert isinstance(transport, GraphTransport) and isinstance(transport.http.tokens, MsalTokens)
    assert transport.settings.client_secret == "from-env"
    assert transport.settings.mailbox == "cop@contoso.example"  # empty graph.mailbox: mailer.address
    assert transport.settings.endpoint == "https://graph.microsoft.com/v1.0"


def test_a_secret_in_the_file_is_refused(tmp_path):
    home = home_with(tmp_path, f'[transport]\nkind = "graph"\n[graph]\n{APP}client_secret = "x"\n')
    with pytest.raises(ConfigError, match="unknown key graph.client_secret"):
        load_settings(home, env={})


@pytest.mark.parametrize("section, env, expected", [
    (APP, {}, "MAILER_GRAPH_CLIENT_SECRET is not set"),
    ('client_id = "c"\n', {"MAILER_GRAPH_CLIENT_SECRET": "s"}, "graph.tenant_id is empty"),
    (APP + 'auth = "certificate"\n', {}, "graph.certificate_path is empty"),
    (APP + 'auth = "certificate"\ncertificate_path = "missing.pem"\n', {}, "cannot read it"),
    (APP + 'endpoint = "http://graph.example/v1.0"\n', {"MAILER_GRAPH_CLIENT_SECRET": "s"},
     "a token is only ever sent over https://"),
    ('auth = "sometimes"\n', {}, "graph.auth = 'sometimes'; expected one of client-secret, certificate, none"),
])
def test_unusable_settings_are_refused_naming_the_key(tmp_path, section, env, expected):
    home = home_with(tmp_path, f'[transport]\nkind = "graph"\n[graph]\n{section}')
    with pytest.raises(ConfigError, match="mailer.toml") as caught:
        make_transport(load_settings(home, env=env))
    assert expected in str(caught.value)


def test_auth_none_for_a_local_server_and_a_relative_certificate_path(tmp_path):
    home = home_with(tmp_path, '[transport]\nkind = "graph"\n[graph]\nauth = "none"\n'
                               'endpoint = "http://127.0.0.1:9/v1.0"\nmailbox = "svc@contoso.example"\n')
    transport = make_transport(load_settings(home, env={}))
    assert isinstance(transport.http.tokens, NoTokens) and transport.settings.mailbox == "svc@contoso.example"
    home = home_with(tmp_path, f'[transport]\nkind = "graph"\n[graph]\n{APP}auth = "certificate"\n'
                               'certificate_path = "app.pem"\n')
    (home / "app.pem").write_text(PEM)
    assert make_transport(load_settings(home, env={})).settings.certificate_path == str(home / "app.pem")


def test_the_token_scope_follows_the_endpoint():
    assert scope_for("https://graph.microsoft.com/v1.0") == "https://graph.microsoft.com/.default"
    assert scope_for("https://graph.microsoft.us/v1.0") == "https://graph.microsoft.us/.default"
    assert scope_for("http://127.0.0.1:8080/v1.0") == "https://graph.microsoft.com/.default"
