"""Store verbs for tokens."""
from __future__ import annotations

from sqlite_utils import Database

MIGRATIONS: list = []
