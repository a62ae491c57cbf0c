"""Practice development projects: a charter, approval by reply, check-ins, news and findings.

Public verbs other flows may call: ``add_team_member``, ``remove_team_member``, ``team_members``,
``project_people`` and ``digest_items`` (the call flow feeds "charter:ID" teams through the first
two, and leaves ``project_people`` out of the call).
"""
from mailer.flows.charter.digest import digest_items
from mailer.flows.charter.lifecycle import add_team_member, project_people, remove_team_member, team_members

__all__ = ["add_team_member", "digest_items", "project_people", "remove_team_member", "team_members"]
