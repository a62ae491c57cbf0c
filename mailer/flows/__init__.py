"""Flows: each says what is due now and what a reply means (see base.py, registry.py)."""
