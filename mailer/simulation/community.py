"""A made-up community for ``simulate``: members spread over real time zones, each with habits.

Pure functions of a seeded ``random.Random``: the same seed gives the same community, so a
simulation can be rerun and compared.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

# (time zone, weight): roughly where a global company's people work
ZONES = (("America/Los_Angeles", 8), ("America/Chicago", 6), ("America/New_York", 12),
         ("America/Sao_Paulo", 5), ("Europe/London", 10), ("Europe/Paris", 7), ("Europe/Berlin", 8),
         ("Europe/Stockholm", 3), ("Africa/Lagos", 3), ("Africa/Nairobi", 2), ("Asia/Dubai", 2),
         ("Asia/Kolkata", 12), ("Asia/Singapore", 4), ("Asia/Shanghai", 6), ("Asia/Tokyo", 6),
         ("Australia/Sydney", 4))
FIRST = ("Aiko", "Oliver", "Priya", "Sam", "Chloé", "Jonas", "Grace", "Lucas", "Nora", "Wei", "María",
         "Liam", "Fatima", "Kenji", "Ana", "Mateo", "Ingrid", "Ravi", "Zoe", "Tomás", "Amara", "Yuki")
LAST = ("Tanaka", "Bennett", "Sharma", "Carter", "Martin", "Weber", "Okafor", "Silva", "Lindqvist",
        "Chen", "González", "O'Brien", "Haddad", "Kowalski", "Novak", "Rossi", "Dubois", "Kim")
CLIENTS = (("outlook", 40), ("gmail", 30), ("apple", 20), ("mobile", 10))
LANGUAGES = (("en", 70), ("de", 10), ("fr", 8), ("es", 7), ("ja", 5))


@dataclass(frozen=True)
class Member:
    """One simulated person and how they behave."""

    email: str
    name: str
    timezone: str
    client: str  # outlook, gmail, apple, mobile
    language: str
    diligence: float  # how likely they answer a day email, relative to the reply rate
    pause_day: int | None  # pauses on this day and resumes two days later
    stop_day: int | None  # stops on this day
    away: tuple[int, int] | None  # out of office over these days (inclusive): auto-replies
    bounces: bool  # the address does not exist: the first email comes back as a DSN


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def make_member(rng: random.Random, n: int, days: int) -> Member:
    """The ``n``th member of a community whose challenge lasts ``days`` days."""
    name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST) + n) % len(LAST)]}"
    days = max(days, 3)
    first_away = rng.randint(1, days - 2)
    return Member(
        email=f"member{n:05d}@sim.example.com", name=name, timezone=_pick(rng, ZONES),
        client=_pick(rng, CLIENTS), language=_pick(rng, LANGUAGES),
        diligence=rng.uniform(0.4, 1.6),
        pause_day=rng.randint(2, days) if rng.random() < 0.03 else None,
        stop_day=rng.randint(3, days) if rng.random() < 0.02 else None,
        away=(first_away, first_away + 2) if rng.random() < 0.03 else None,
        bounces=rng.random() < 0.005)


def make_community(members: int, days: int, seed: int) -> list[Member]:
    """``members`` people with their habits, reproducibly from ``seed``."""
    rng = random.Random(seed)
    return [make_member(rng, n, days) for n in range(members)]
