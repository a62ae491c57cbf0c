"""``run.py preview``: any email the service sends, rendered from a scratch copy of the home.

- ``world``: the scratch database (the home's copied, the sample's where the home has none);
- ``kinds``: every kind of email, built by the flows' own compose functions;
- ``render``: the bytes the outbox would store, and their text, HTML and calendar parts.
"""
