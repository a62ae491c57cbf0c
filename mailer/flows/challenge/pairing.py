"""Accountability partners: pairs of people in nearby time zones, a trio when the count is odd.

``group_up`` is the pure part: sorted by UTC offset, neighbours are paired (on a line, pairing
neighbours is what keeps the total distance smallest); with an odd count the three neighbours
whose span is smallest become the trio. ``maintain`` applies it to the store: people who left
(stopped, or their address bounced) leave their group, and whoever is left alone is paired
with another lone person or, failing that, joins the nearest pair (or takes one member of a
trio, so that no group grows past three).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlite_utils import Database

from mailer.flows.challenge import timing as ct
from mailer.store import challenges as store

Member = tuple[int, int]  # (person id, UTC offset in minutes)


def group_up(members: list[Member]) -> list[list[int]]:
    """Partition people into pairs (and one trio when odd) of close time zones; ids in groups."""
    ordered = sorted(members, key=lambda m: (m[1], m[0]))
    if len(ordered) < 2:
        return []
    if len(ordered) % 2 == 0:
        return [[a[0], b[0]] for a, b in zip(ordered[::2], ordered[1::2])]
    trio_at = _best_trio(ordered)
    groups = _pairs(ordered[:trio_at]) + [ordered[trio_at:trio_at + 3]] + _pairs(ordered[trio_at + 3:])
    return [[m[0] for m in group] for group in groups]


def _best_trio(ordered: list[Member]) -> int:
    """Where the trio goes in an odd, sorted list: the even index whose grouping (pairs before,
    the trio, pairs after) spans the least in total; the first such index on a tie. Linear:
    the cost of the pairs before and after each candidate is a running sum, not recomputed."""
    n = len(ordered)
    before = [0]  # before[k]: the cost of pairing ordered[:2k]
    for i in range(0, n - 1, 2):
        before.append(before[-1] + ordered[i + 1][1] - ordered[i][1])
    after = [0] * (n + 2)  # after[j]: the cost of pairing ordered[j:] (n - j even)
    for j in range(n - 2, 0, -2):
        after[j] = after[j + 2] + ordered[j + 1][1] - ordered[j][1]
    best_at, best_cost = 0, None
    for trio_at in range(0, n - 2, 2):
        cost = before[trio_at // 2] + ordered[trio_at + 2][1] - ordered[trio_at][1] + after[trio_at + 3]
        if best_cost is None or cost < best_cost:
            best_at, best_cost = trio_at, cost
    return best_at


def _pairs(members: list[Member]) -> list[list[Member]]:
    return [members[i:i + 2] for i in range(0, len(members), 2)]


def nearest_group(offset: int, groups: dict[int, list[Member]]) -> int | None:
    """The group a lone person should join: a pair rather than a trio, then the closest zone."""
    if not groups:
        return None

    def distance(item: tuple[int, list[Member]]) -> tuple[int, int, int]:
        number, members = item
        mean = sum(m[1] for m in members) // len(members)
        return (len(members) > 2, abs(mean - offset), number)

    return min(groups.items(), key=distance)[0]


def maintain(db: Database, challenge_id: int, staying: list[dict], ready: set[int], on: date,
             now: datetime) -> None:
    """Bring the challenge's partner groups up to date.

    ``staying`` are participants who still take part (active or paused, address not bounced),
    with ``person_id`` and ``timezone``; ``ready`` the ids among them whose challenge has begun
    (a newcomer is paired when their next day starts). Offsets are taken on date ``on``.
    """
    with db.atomic():  # one commit for the whole regrouping, not one per pair
        _maintain(db, challenge_id, staying, ready, on, now)


def _maintain(db: Database, challenge_id: int, staying: list[dict], ready: set[int], on: date,
              now: datetime) -> None:
    offsets = {p["person_id"]: ct.utc_offset_minutes(p["timezone"], on) for p in staying}
    groups = _drop_leavers(db, challenge_id, set(offsets), now)
    grouped = {pid for members in groups.values() for pid in members}
    alone = sorted(pid for pid in ready if pid not in grouped)
    for number, members in list(groups.items()):
        if len(members) == 1:  # their partner left: they look for a new one
            store.leave_group(db, challenge_id, members[0], now)
            alone.append(members[0])
            del groups[number]
    if len(alone) >= 2:
        store.form_groups(db, challenge_id, group_up([(pid, offsets[pid]) for pid in alone]), now)
    elif len(alone) == 1:
        _join_nearest(db, challenge_id, alone[0], offsets, groups, now)


def _drop_leavers(db: Database, challenge_id: int, staying: set[int], now: datetime) -> dict[int, list[int]]:
    groups = store.current_groups(db, challenge_id)
    for number, members in groups.items():
        for pid in [m for m in members if m not in staying]:
            store.leave_group(db, challenge_id, pid, now)
            members.remove(pid)
    return {n: m for n, m in groups.items() if m}


def _join_nearest(db: Database, challenge_id: int, person_id: int, offsets: dict[int, int],
                  groups: dict[int, list[int]], now: datetime) -> None:
    """A lone person joins the nearest pair; when only trios are left, the trio member closest
    in time zone leaves it to pair with them (two pairs beat a group of four)."""
    with_offsets = {n: [(pid, offsets[pid]) for pid in members] for n, members in groups.items()}
    number = nearest_group(offsets[person_id], with_offsets)
    if number is None:
        return
    if len(groups[number]) < 3:
        store.join_group(db, challenge_id, number, person_id, now)
        return
    mover = min(groups[number], key=lambda pid: (abs(offsets[pid] - offsets[person_id]), pid))
    store.leave_group(db, challenge_id, mover, now)
    store.form_group(db, challenge_id, [mover, person_id], now)


def partner_index(groups: dict[int, list[int]]) -> dict[int, list[int]]:
    """Person id -> the other members of their group (the unpaired are absent)."""
    return {pid: [m for m in members if m != pid] for members in groups.values() for pid in members}
