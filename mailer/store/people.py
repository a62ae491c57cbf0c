"""Store verbs for people."""
from __future__ import annotations

from sqlite_utils import Database

MIGRATIONS: list = []
