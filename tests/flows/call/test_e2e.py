"""A call through the real worker: raw replies in Outlook, Gmail and Apple Mail styles land in
the Maildir inbox, are routed by their reply token and read with the call's roles.

Each reply must do what it says and nothing more: the emails queued in its tick are exactly
the answer it deserves, and the sign-ups change exactly as it asks.
"""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.call.definition import load_spec, open_call
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import calls as store
from mailer.store import inbox as inbox_store
from mailer.store import open_db
from mailer.store import outbox as outbox_store
from mailer.store.people import add_person
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.call.conftest import AIKO, OLIVER, OPENED, PEOPLE, PRIYA, SAM, call_toml

SIGNATURES = {"outlook": "\n\nBest regards,\n{name}\nPlatform Engineering | Corp\n+44 20 7946 0000",
              "gmail": "\n\n-- \n{name}\nhttps://corp.example.com/people",
              "apple": "\n\nSent from my iPhone"}
# What each client's out-of-office adds to a reply (tests/inbound/samples holds real ones).
OOO_HEADERS = {"outlook": (("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")),
               "gmail": (("Auto-Submitted", "auto-replied"),),
               "apple": (("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"))}
OOO_SUBJECT = {"outlook": "Automatic reply: {}", "gmail": "Out of office", "apple": "Re: {}"}


class World:
    """A home with the Maildir transport, the community, and one open call."""

    def __init__(self, home, tmp_path, toml: str | None = None, before_open=None):
        self.settings = load_settings(home, env={})
        self.db = open_db(self.settings.db_path)
        self.names = {}
        for address, name, tz, roles in PEOPLE:
            add_person(self.db, address, name, tz, roles)
            self.names[address] = name
        if before_open:
            before_open(self.db)
        path = tmp_path / "call.toml"
        path.write_text(toml or call_toml())
        self.call_id = open_call(self.db, load_spec(path), OPENED)
        self.transport = make_transport(self.settings)
        self.now = OPENED
        self.tick()

    def tick(self) -> set[tuple[str, str]]:
        """One worker tick; the call emails it queued, as (recipient, kind)."""
        before = outbox_store.existing_keys(self.db, "call:")
        worker.tick(self.db, self.transport, self.now, self.settings, "test")
        self.now += timedelta(minutes=10)
        new = outbox_store.existing_keys(self.db, "call:") - before
        return {(self.to_of(key), key.split(":")[2]) for key in new}

    def to_of(self, key: str) -> str:
        return next(self.db.query("SELECT to_addr FROM outbox WHERE key = ?", [key]))["to_addr"]

    def last_mail(self, address: str, subject_part: str) -> bytes:
        found = []
        for path in (self.settings.mail_dir / "outbox").rglob("*"):
            if path.is_file():
                msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if msg["To"].addresses[0].addr_spec == address and subject_part in msg["Subject"]:
                    found.append((msg["Date"].datetime, path.stat().st_mtime_ns, path.read_bytes()))
        assert found, f"no email to {address} with {subject_part!r}"
        return max(found)[2]

    def reply(self, address: str, text: str, client: str, to_subject: str = "Volunteers wanted") -> None:
        original = self.last_mail(address, to_subject)
        body = text + SIGNATURES[client].format(name=self.names[address])
        deliver_to_inbox(self.settings.mail_dir,
                         compose_reply(original, address, self.names[address], body, client, self.now))

    def out_of_office(self, address: str, client: str) -> None:
        original = self.last_mail(address, "Volunteers wanted")
        raw = compose_reply(original, address, self.names[address],
                            "I am out of the office until 25 January with limited access to email. "
                            "I'm in a meeting-free week after that.", client, self.now)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        for name, value in OOO_HEADERS[client]:
            msg[name] = value
        subject = email.message_from_bytes(original, policy=email.policy.default)["Subject"]
        del msg["Subject"]
        msg["Subject"] = OOO_SUBJECT[client].format(subject)
        deliver_to_inbox(self.settings.mail_dir, msg.as_bytes(policy=email.policy.SMTP))

    def roles(self) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for s in store.signups(self.db, self.call_id):
            found.setdefault(s["role"], []).append((s["email"], s["status"]))
        return found


@pytest.fixture
def world(home, tmp_path):
    made = World(home, tmp_path)
    yield made
    made.transport.close()
    made.db.close()


@pytest.mark.parametrize("client", CLIENTS)
def test_each_phrase_does_what_it_says_and_nothing_more(world, client):
    world.reply(AIKO, "Count me in as a writer", client)
    assert world.tick() == {(AIKO, "confirmed")}
    assert world.roles() == {"writer": [(AIKO, "confirmed")]}

    world.reply(PRIYA, "I'm in!", client)
    assert world.tick() == {(PRIYA, "confirmed")}
    assert world.roles() == {"writer": [(AIKO, "confirmed"), (PRIYA, "confirmed")]}

    world.reply(OLIVER, "Sorry, can't this time", client)
    assert world.tick() == set()
    assert OLIVER not in str(world.roles())

    world.out_of_office(SAM, client)
    assert world.tick() == set()
    assert SAM not in str(world.roles())
    assert next(world.db.query("SELECT state, kind FROM inbox ORDER BY id DESC LIMIT 1")) == \
        {"state": "ignored", "kind": "auto_reply"}

    world.reply(AIKO, "Please take me off the team", client, to_subject="Re:")  # answering the confirmation
    assert world.tick() == {(AIKO, "withdrawn")}
    assert world.roles() == {"writer": [(PRIYA, "confirmed")]}
    rules = [r["rule"] for r in world.db.query("SELECT rule FROM inbox WHERE state = 'done' ORDER BY id")]
    assert len(rules) == 4 and all(r.startswith("route: token") for r in rules), rules


def test_two_replies_for_the_last_place_in_one_tick(world):
    world.reply(AIKO, "I'm in as reviewer", "outlook")
    world.reply(PRIYA, "I'm in as reviewer", "gmail")
    assert world.tick() == {(AIKO, "confirmed"), (PRIYA, "waitlisted")}  # processed in arrival order
    assert world.roles() == {"reviewer": [(AIKO, "confirmed"), (PRIYA, "waitlisted")]}


def test_withdrawal_by_reply_promotes_and_emails_the_first_waiting(world):
    for who, client in ((AIKO, "outlook"), (PRIYA, "gmail"), (OLIVER, "apple"), (SAM, "gmail")):
        world.reply(who, "Count me in as a writer", client)
        world.tick()
    assert world.roles()["writer"] == [(AIKO, "confirmed"), (PRIYA, "confirmed"), (OLIVER, "waitlisted"),
                                       (SAM, "waitlisted")]
    world.reply(PRIYA, "I can't do it after all", "outlook", to_subject="Re:")
    assert world.tick() == {(PRIYA, "withdrawn"), (OLIVER, "promoted")}
    promoted = email.message_from_bytes(world.last_mail(OLIVER, "You're in"), policy=email.policy.default)
    assert "A place opened up and it is yours" in promoted.get_body(("plain",)).get_content()
    world.reply(OLIVER, "Please take me off", "apple", to_subject="You're in")  # replying to the promotion
    assert world.tick() == {(OLIVER, "withdrawn"), (SAM, "promoted")}


@pytest.mark.parametrize("client", CLIENTS)
def test_the_leads_reply_to_call_closed_is_kept_for_the_lead_and_not_answered(world, client):
    world.reply(AIKO, "Count me in as a writer", client)
    world.tick()
    world.now = OPENED + timedelta(days=11)  # 21 Jan: closed everywhere; the list goes to Lena
    world.tick()
    lena = "lena@corp.example.com"
    before = len(outbox_store.list_rows(world.db, limit=10_000))
    world.reply(lena, "Thanks! Can we ask Carla to review as well?", client, to_subject="Call closed")
    world.tick()
    row = next(world.db.query("SELECT state, outcome, reason, rule FROM inbox ORDER BY id DESC LIMIT 1"))
    assert (row["state"], row["outcome"]) == ("done", "kept") and row["rule"].startswith("route: token")
    assert "to the list of call" in row["reason"] and "kept for the lead" in row["reason"]
    assert len(outbox_store.list_rows(world.db, limit=10_000)) == before  # no "use your Reply button"
    assert [r["reason"] for r in inbox_store.waiting_for_lead(world.db)] == [row["reason"]]
