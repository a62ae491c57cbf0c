"""Practice development projects: a charter, approval by reply, check-ins, news and findings.

Public verbs other flows may call: ``add_team_member``, ``team_members`` and ``digest_items``.
"""
from mailer.flows.charter.digest import digest_items
from mailer.flows.charter.lifecycle import add_team_member, team_members

__all__ = ["add_team_member", "digest_items", "team_members"]
