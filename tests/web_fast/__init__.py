"""Fast tests of the web's decisions (no browser, no server), for mutmut (docs/testing.md)."""
from mailer.config import Settings


def with_values(settings: Settings, **values) -> Settings:
    """``settings`` with some values set (the first of a repeated key wins)."""
    return Settings(settings.home, tuple(values.items()) + settings.values)
