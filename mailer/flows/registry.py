"""The flows, and which reply purposes each one answers.

A flow module offers ``due(db, now, settings)`` and ``handle_reply(db, reply, now, settings)``
(see ``mailer.flows.base``). The worker asks every flow in ``FLOWS`` what is due, and hands a
routed reply to the flow that issued its token's purpose.
"""
from __future__ import annotations

from types import ModuleType

from mailer.flows import digest, meetup
from mailer.flows.call import digest as call_digest
from mailer.flows.call import flow as call
from mailer.flows.challenge import digest as challenge_digest
from mailer.flows.challenge import flow as challenge
from mailer.flows.charter import digest as charter_digest
from mailer.flows.charter import flow as charter

FLOWS: tuple[ModuleType, ...] = (challenge, charter, call, meetup, digest)

# token purpose -> (flow module, the context replies to it are read in: inbound.commands)
PURPOSES: dict[str, tuple[ModuleType, str]] = {
    "journal": (challenge, "journal"),
    "challenge_join": (challenge, "journal"),
    "challenge_status": (challenge, "journal"),  # confirmations: "reply resume", "reply stop"
    "approval": (charter, "approval"),
    "approval_confirm": (charter, "confirm"),  # "yes" confirms the held answer, "not me" disowns it
    "checkin": (charter, "journal"),  # free text like a journal entry; "#private" keeps it in the store
    "project_news": (charter, "journal"),
    "volunteer": (call, "volunteer"),
    "call_list": (call, "journal"),  # the sender's answer to the list at closing: kept for the lead
    "meetup": (meetup, "meetup"),
    "meetup_highlight": (meetup, "journal"),
    "digest": (digest, "journal"),  # read only to find an unsubscribe; everything else is forwarded
}


# flow packages whose ``digest_items(db, email, since, until)`` feed sponsor digests
DIGEST_SOURCES: tuple[ModuleType, ...] = (challenge_digest, charter_digest, call_digest, meetup)


def flow_for(purpose: str) -> tuple[ModuleType, str] | None:
    """The flow handling replies to tokens of ``purpose`` and their reading context, or None."""
    return PURPOSES.get(purpose)
