"""A sentence kept in the store and said in each reader's language when an email is rendered.

Some sentences are written once and read later by many people: the volunteer call a charter
opens ("Join the project team: …"), the lines of "what changed since version N". Kept as
English text they would read English in every language; kept as their parts (message id,
parameters, the dates and sums inside) they are said again in each recipient's language.

``dump(value)`` gives JSON-able data (a plain ``str`` stays itself, so rows written before
stay readable) and ``load(data)`` the ``Localized`` value again, whose English is unchanged.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mailer.locale.text import Joined, Text, Versions

# The formatters of ``outbound.formats`` a stored sentence may hold (a date, a sum of money).
FORMATTERS = frozenset({"date", "day", "long_date", "time", "period", "duration", "hours", "number",
                        "money", "count", "megabytes"})


def dump(value: Any) -> Any:
    """``value`` (a ``Text``, ``Joined``, ``Versions``, a formatted date or sum, or plain data)
    as JSON-able data that ``load`` turns back into it."""
    from mailer.outbound.formats import Shown  # formats imports locale.text: no cycle here
    if isinstance(value, Text):
        return {"text": value.msgid, "plural": value.plural, "n": value.n, "context": value.context,
                "params": {k: dump(v) for k, v in value.params.items()}}
    if isinstance(value, Joined):
        return {"joined": value.sep, "parts": [dump(p) for p in value.parts]}
    if isinstance(value, Versions):
        return {"versions": value.versions, "default": str.__str__(value), "markup": value.markup}
    if isinstance(value, Shown):
        return {"shown": value.func.__name__, "args": [dump(a) for a in value.args]}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, str):
        return str.__str__(value)
    return value


def load(data: Any) -> Any:
    """What ``dump`` made, as the value it was (plain data as it is)."""
    if not isinstance(data, dict):
        return data
    if "text" in data:
        return Text(data["text"], data.get("plural"), data.get("n"),
                    {k: load(v) for k, v in (data.get("params") or {}).items()}, data.get("context"))
    if "joined" in data:
        return Joined(data["joined"], [load(p) for p in data["parts"]])
    if "versions" in data:
        return Versions(data["default"], data["versions"], data.get("markup", False))
    if data.get("shown") in FORMATTERS:
        from mailer.outbound import formats
        return getattr(formats, data["shown"])(*(load(a) for a in data["args"]))
    if "datetime" in data:
        return datetime.fromisoformat(data["datetime"])
    if "date" in data:
        return date.fromisoformat(data["date"])
    return data
