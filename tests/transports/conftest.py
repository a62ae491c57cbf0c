"""Until tests/conftest.py registers ``pytest_plugins = ["tests.rig"]``, load the rig's fixtures here."""
import sys

if "tests.rig" not in sys.modules:  # registered as a plugin: its fixtures are already global
    from tests.rig import mail_rig, pytest_configure, rig_users  # noqa: F401
