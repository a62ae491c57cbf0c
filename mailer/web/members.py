"""The members' pages: one-click unsubscribe (RFC 8058) and preferences, reached by signed links."""
from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The members' routes."""
    return []
