"""Places, pure: who holds which role, who waits, which role a plain "I'm in" goes to.

The store decides confirmed or waitlisted in SQL (``store.calls.take_place``), so that two
replies for the last place cannot both win; these functions describe the same rules for the
emails, ``call show`` and the digests, and choose the role before the store is asked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from mailer.locale.text import _, ngettext

UNNAMED = ""  # a call without [[roles]]: one role, no name, unlimited places


@dataclass(frozen=True)
class RoleState:
    """One role of a call: its places, who holds them and who waits, in order of arrival."""

    name: str
    places: int | None  # None: unlimited
    description: str
    confirmed: tuple[dict, ...]  # sign-ups (person_id, email, name), first come first
    waitlist: tuple[dict, ...]
    taken: int = -1  # how many are confirmed / waiting: given by ``summary``, else counted
    waiting: int = -1

    def __post_init__(self) -> None:
        if self.taken < 0:
            object.__setattr__(self, "taken", len(self.confirmed))
        if self.waiting < 0:
            object.__setattr__(self, "waiting", len(self.waitlist))

    @property
    def left(self) -> int | None:
        """Places still open (None: unlimited)."""
        return None if self.places is None else max(self.places - self.taken, 0)

    @property
    def full(self) -> bool:
        """Whether a new volunteer would wait."""
        return self.left == 0


def board(roles: Iterable[dict], signups: Iterable[dict]) -> list[RoleState]:
    """Each role (name, places, description) with its confirmed and waiting sign-ups."""
    signups = list(signups)
    return [RoleState(r["name"], r["places"], r.get("description") or "",
                      tuple(s for s in signups if s["role"] == r["name"] and s["status"] == "confirmed"),
                      tuple(s for s in signups if s["role"] == r["name"] and s["status"] == "waitlisted"))
            for r in roles]


def summary(roles: Iterable[dict], counts: dict[str, tuple[int, int]]) -> list[RoleState]:
    """Each role with only how many are confirmed and waiting (``counts``: role -> (confirmed,
    waiting)): enough to answer a reply without reading every sign-up."""
    return [RoleState(r["name"], r["places"], r.get("description") or "", (), (),
                      *counts.get(r["name"], (0, 0))) for r in roles]


def decide(places: int | None, confirmed: int) -> str:
    """Confirmed while a place is left, else waitlisted (the rule ``take_place`` applies in SQL)."""
    return "confirmed" if places is None or confirmed < places else "waitlisted"


def next_in_line(role: RoleState) -> dict | None:
    """Whom a freed place goes to: the first on the waitlist, if a place is open."""
    return role.waitlist[0] if role.waitlist and not role.full else None


def position(role: RoleState, person_id: int) -> int:
    """A person's place on the role's waitlist, counting from 1 (0: not waiting)."""
    for n, signup in enumerate(role.waitlist, start=1):
        if signup["person_id"] == person_id:
            return n
    return 0


def choose_role(roles: Sequence[RoleState]) -> str:
    """The role a volunteer who names none goes to: the only one, else the one with the most
    places left (unlimited counts as most; ties go to the first listed); when all are full,
    the one with the shortest waitlist."""
    if len(roles) == 1:
        return roles[0].name
    open_roles = [r for r in roles if not r.full]
    if open_roles:
        return max(open_roles, key=lambda r: float("inf") if r.left is None else r.left).name
    return min(roles, key=lambda r: r.waiting).name


def _stem(word: str) -> str:
    word = re.sub(r"[\s_-]+", " ", word.lower()).strip()
    return re.sub(r"(ing|ers|er|ors|or|s)$", "", word) or word


def match_role(named: str | None, names: Sequence[str]) -> str | None:
    """The role among ``names`` that ``named`` means ("reviewing", "Writers" -> reviewer,
    writer), or None."""
    if not named:
        return None
    for name in names:
        if named.lower() == name.lower():
            return name
    stems = {_stem(name): name for name in names}
    return stems.get(_stem(named))


def place_line(role: RoleState) -> str:
    """One line for the call email and ``call list``: "writer: 1 of 2 left"."""
    label = role.name or _("volunteers")
    if role.places is None:
        return _("%(role)s: open to all (%(taken)s so far)", role=label, taken=role.taken)
    if role.full and role.waiting:
        return _("%(role)s: full (%(places)s of %(places)s taken, %(waiting)s waiting); you can join the waitlist",
                 role=label, places=role.places, waiting=role.waiting)
    if role.full:
        return _("%(role)s: full (%(places)s of %(places)s taken); you can join the waitlist",
                 role=label, places=role.places)
    return ngettext("%(role)s: %(num)s of %(places)s left", "%(role)s: %(num)s of %(places)s left", role.left,
                    role=label, places=role.places)


def filled(roles: Sequence[RoleState]) -> str:
    """The call in one phrase: "2 of 3 places filled", or "4 volunteers" when unlimited."""
    limited = [r for r in roles if r.places is not None]
    people = sum(r.taken for r in roles)
    if not limited or len(limited) < len(roles):
        return ngettext("%(num)s volunteer", "%(num)s volunteers", people)
    places = sum(r.places for r in limited)
    # English says "places" even for one ("1 of 1 places filled"); other languages choose.
    return ngettext("%(taken)s of %(num)s places filled", "%(taken)s of %(num)s places filled", places, taken=people)
