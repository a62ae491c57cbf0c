"""`check` says who may sign in to the lead's page, and who in ``[web] lead_emails`` never can."""
from __future__ import annotations

import json
from pathlib import Path

from tests.web.lead_home import cli

ROOT = Path(__file__).resolve().parents[2]


def test_check_names_lead_emails_that_cannot_sign_in(home: Path):
    (home / "mailer.toml").write_text((home / "mailer.toml").read_text() + '\n[web]\nlead_emails = '
                                      '"Oliver.Bennett@corp.example.com, nobody@example.test"\n')
    cli(home, "people", "import", str(ROOT / "data" / "people.csv"))
    found = {c["what"]: c for c in json.loads(cli(home, "check", "--json"))["checks"]}
    assert not found["lead's page"]["ok"]
    assert found["lead's page"]["detail"].startswith("nobody@example.test in [web] lead_emails cannot sign in")


def test_check_says_nothing_of_the_lead_page_without_lead_emails(home: Path):
    checks = json.loads(cli(home, "check", "--json"))["checks"]
    assert all(c["what"] != "lead's page" for c in checks)
