"""The 30-day challenge flow, one module per job.

- ``definition``: the challenge file (TOML, unknown keys refused), ``--check`` and starting one;
- ``flow``: what is due at ``now`` (``due``) and what a reply means (``handle_reply``);
- ``emails``: the context of each email it sends (templates in ``templates/challenge/``);
- ``timing``: each participant's local day and send hour;
- ``journal``: entries, streaks and the Markdown export;
- ``pairing``: accountability partners, close in time zone, a trio when the count is odd.
"""
from mailer.flows.challenge.flow import due, enroll, handle_reply, leave, sponsors_of

__all__ = ["due", "enroll", "handle_reply", "leave", "sponsors_of"]
