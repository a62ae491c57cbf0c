"""The volunteer-call flow, one module per job.

- ``definition``: the call file (TOML, unknown keys refused), ``--check`` and ``open_call``;
- ``flow``: what is due at ``now`` (``due``) and what a reply means (``handle_reply``);
- ``places``: roles, places and waitlists as pure functions;
- ``feeds``: the target a call fills (a challenge's participants, a charter's team, a
  meetup's speakers), through each flow's public verb;
- ``emails``: the context of each email it sends (templates in ``templates/call/``);
- ``digest``: what calls say in a sponsor digest.
"""
from mailer.flows.call.definition import open_call
from mailer.flows.call.digest import digest_items
from mailer.flows.call.flow import confirmed, due, handle_reply

__all__ = ["confirmed", "digest_items", "due", "handle_reply", "open_call"]
