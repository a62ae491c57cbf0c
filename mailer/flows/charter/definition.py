"""A project charter as a TOML file: loading, validation, and what a reader is shown.

Every key of a charter file (unknown keys are errors, so a typo never passes silently)::

    title               text, required ("Observability playbook").
    kind                optional ("practice-development"): "practice-development", "case-study"
                        (an existing project adopted for the community's learning) or "pro-bono"
                        (work done together for someone).
    goal                text, required: what the project sets out to achieve.
    scope               text, required: what it covers.
    out_of_scope        text, optional: what it deliberately leaves out.
    proposer            email of a known person, required: who answers for the charter.
    team                list of emails of known people, optional ([]).
    open_places         whole number 0-50, optional (0): places filled by a volunteer call
                        once the charter is approved.
    hours_per_week      number > 0, required: hours each team member gives a week.
    duration_weeks      whole number 1-104, required.
    budget              number >= 0, optional, with currency (text, "EUR" by default).
    report_every_weeks  whole number >= 1, optional (2): the check-in cadence.
    learning_sponsors   list of emails, required (at least one: the community is the
                        learning sponsor; name the person who speaks for it).
    funding_sponsors    list of emails, optional ([]).
    approvers           list of emails of known people, required (at least one).
    rule                optional ("all"): "any", "all", "majority", or a whole number of
                        approvals needed (1 to the number of approvers).
    deadline            date, required: the decision deadline (2027-01-20). Undecided after
                        that day, the charter expires and the proposer is told.
    [report_back]       optional table: offers a report-back meetup when the project ends.
                          days_after_end    whole number 0-90 (7)
                          hour              local hour 0-23 of the proposer (15)
                          duration_minutes  whole number 15-480 (60)
                          location          text ("Online")

Every error names the file, the key, the value and what was expected.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer.errors import ConfigError
from mailer.flows import toml_file
from mailer.locale import stored
from mailer.locale.text import Text, _
from mailer.outbound import formats
from mailer.store import people

KEYS = ("title", "kind", "goal", "scope", "out_of_scope", "proposer", "team", "open_places",
        "hours_per_week", "duration_weeks", "budget", "currency", "report_every_weeks",
        "learning_sponsors", "funding_sponsors", "approvers", "rule", "deadline", "report_back")
REPORT_BACK = {"days_after_end": (0, 90, 7), "hour": (0, 23, 15), "duration_minutes": (15, 480, 60)}
KINDS = ("practice-development", "case-study", "pro-bono")
KIND_LABELS = {"practice-development": _("Practice development project"), "case-study": _("Case study"),
               "pro-bono": _("Pro-bono project")}
EMAIL = toml_file.EMAIL


@dataclass(frozen=True)
class CharterDef:
    """A validated charter file; ``as_spec`` gives the plain dict the store keeps per version."""

    title: str
    kind: str
    goal: str
    scope: str
    out_of_scope: str
    proposer: str
    team: tuple[str, ...]
    open_places: int
    hours_per_week: float
    duration_weeks: int
    budget: float | None
    currency: str
    report_every_weeks: int
    learning_sponsors: tuple[str, ...]
    funding_sponsors: tuple[str, ...]
    approvers: tuple[str, ...]
    rule: str | int
    deadline: date
    report_back: dict | None
    source: str

    def as_spec(self) -> dict[str, Any]:
        """Plain JSON-ready values (lists, ISO date)."""
        spec = asdict(self)
        spec["deadline"] = self.deadline.isoformat()
        for key in ("team", "learning_sponsors", "funding_sponsors", "approvers"):
            spec[key] = list(spec[key])
        return spec


def load_definition(path: Path) -> CharterDef:
    """Read and validate a charter file (people are checked by ``check_people``)."""
    raw = toml_file.read(path)
    return parse_definition(raw, Path(path))


def parse_definition(raw: dict[str, Any], path: Path) -> CharterDef:
    """Validate the parsed TOML of a charter file; ConfigError names the file and the key."""
    toml_file.refuse_unknown(raw, KEYS, path)
    approvers = _addresses(raw, "approvers", path, required=True)
    kind = raw.get("kind", "practice-development")
    if kind not in KINDS:
        raise ConfigError(f"{path}: kind = {kind!r}; expected one of {', '.join(KINDS)}")
    return CharterDef(
        title=toml_file.title(raw, "title", path), kind=kind, goal=toml_file.text(raw, "goal", path, True),
        scope=toml_file.text(raw, "scope", path, True), out_of_scope=toml_file.text(raw, "out_of_scope", path),
        proposer=toml_file.address(raw.get("proposer"), path, "proposer"),
        team=_addresses(raw, "team", path), open_places=_whole(raw, "open_places", path, 0, 50, 0),
        hours_per_week=_positive(raw, "hours_per_week", path),
        duration_weeks=_whole(raw, "duration_weeks", path, 1, 104),
        budget=_budget(raw, path), currency=toml_file.text(raw, "currency", path) or "EUR",
        report_every_weeks=_whole(raw, "report_every_weeks", path, 1, 52, 2),
        learning_sponsors=_addresses(raw, "learning_sponsors", path, required=True),
        funding_sponsors=_addresses(raw, "funding_sponsors", path),
        approvers=approvers, rule=_rule(raw.get("rule", "all"), path, len(approvers)),
        deadline=toml_file.day(raw.get("deadline"), path, "deadline"), report_back=_report_back(raw, path),
        source=str(path))


def _addresses(raw: dict, key: str, path: Path, required: bool = False) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key} = {value!r}; expected a list of email addresses")
    found: list[str] = []
    for item in value:
        address = toml_file.address(item, path, key)
        if address in found:
            raise ConfigError(f"{path}: {key}: {address} is listed twice")
        found.append(address)
    if required and not found:
        raise ConfigError(f"{path}: {key} is required (a list of at least one email address)")
    return tuple(found)


def _whole(raw: dict, key: str, path: Path, low: int, high: int, default: int | None = None) -> int:
    value = raw.get(key, default)
    if value is None:
        raise ConfigError(f"{path}: {key} is required (a whole number from {low} to {high})")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path}: {key} = {value!r}; expected a whole number from {low} to {high}")
    return value


def _positive(raw: dict, key: str, path: Path) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 80:
        raise ConfigError(f"{path}: {key} = {value!r}; expected a number of hours above 0 (at most 80)")
    return value


def _budget(raw: dict, path: Path) -> float | None:
    value = raw.get("budget")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{path}: budget = {value!r}; expected an amount >= 0")
    return value


def _rule(value: Any, path: Path, approvers: int) -> str | int:
    if value in ("any", "all", "majority"):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= approvers:
        return value
    raise ConfigError(f"{path}: rule = {value!r}; expected \"any\", \"all\", \"majority\" or a "
                      f"number of approvals from 1 to {approvers} (the number of approvers)")


def _report_back(raw: dict, path: Path) -> dict | None:
    table = raw.get("report_back")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: report_back = {table!r}; expected a table [report_back]")
    unknown = sorted(set(table) - {*REPORT_BACK, "location"})
    if unknown:
        raise ConfigError(f"{path}: report_back.{unknown[0]} is not a key; expected one of "
                          f"{', '.join([*REPORT_BACK, 'location'])}")
    result: dict[str, Any] = {key: _whole(table, key, Path(f"{path}: report_back"), low, high, default)
                              for key, (low, high, default) in REPORT_BACK.items()}
    result["location"] = toml_file.text(table, "location", Path(f"{path}: report_back")) or "Online"
    return result


# -- people -----------------------------------------------------------------------------

def check_people(db: Database, definition: CharterDef) -> None:
    """ConfigError when someone named in the charter is not a known person."""
    named = [("proposer", definition.proposer), *[("team", a) for a in definition.team],
             *[("approvers", a) for a in definition.approvers],
             *[("learning_sponsors", a) for a in definition.learning_sponsors],
             *[("funding_sponsors", a) for a in definition.funding_sponsors]]
    for key, address in named:
        if people.find_person(db, address) is None:
            raise ConfigError(f"{definition.source}: {key}: {address} is not a known person "
                              "(add them with `people import` first)")


# -- what a reader is shown -------------------------------------------------------------

def _number(value: float) -> str:
    return f"{value:g}"


def team_size(spec: dict) -> int:
    """The people the charter plans for: the named team and its open places."""
    return len(spec["team"]) + spec["open_places"]


def planned_hours(spec: dict) -> float:
    """The team hours the charter asks for: everyone planned, at its rate, for its duration.

    The one number the charter and the sponsor digest both show as "planned"."""
    return team_size(spec) * spec["hours_per_week"] * spec["duration_weeks"]


def resourcing(spec: dict) -> str:
    """The team's time in total: "3 people × 2 h/week × 8 weeks = 48 hours"."""
    return _("%(people)s × %(rate)s h/week × %(weeks)s = %(hours)s",
             people=formats.count(team_size(spec), "person", "people"), rate=formats.number(spec["hours_per_week"]),
             weeks=formats.count(spec["duration_weeks"], "week"), hours=formats.hours(planned_hours(spec)))


def budget_line(spec: dict) -> str | None:
    """"Budget: 5,000 EUR", or None without a budget."""
    if spec.get("budget") is None:
        return None
    return formats.money(spec["budget"], spec["currency"])


def rule_text(spec: dict) -> str:
    """The decision rule in words: "all 3 approvers must approve"."""
    count, rule = len(spec["approvers"]), spec["rule"]
    if rule == "all":
        return _("all approvers must approve") if count > 1 else _("the approver must approve")
    if rule == "any":
        return _("one approval is enough")
    if rule == "majority":
        return _("a majority must approve: %(needed)s of %(count)s", needed=count // 2 + 1, count=count)
    return _("%(needed)s of the %(count)s approvers must approve", needed=rule, count=count)


FIELD_LABELS = {"title": _("Title"), "kind": _("Kind"), "goal": _("Goal"), "scope": _("Scope"),
                "out_of_scope": _("Out of scope"), "proposer": _("Proposer"), "team": _("Team"),
                "open_places": _("Open places"), "hours_per_week": _("Hours per week"),
                "duration_weeks": _("Duration (weeks)"), "budget": _("Budget"), "currency": _("Currency"),
                "report_every_weeks": _("Reports every (weeks)"), "learning_sponsors": _("Learning sponsors"),
                "funding_sponsors": _("Funding sponsors"), "approvers": _("Approvers"), "rule": _("Rule"),
                "deadline": _("Deadline"), "report_back": _("Report-back meetup")}


def changes(old: dict, new: dict) -> list[Text]:
    """What changed between two versions, one line per field ("Scope: A → B"): each is kept
    as its parts (``stored_changes``) and said in each approver's language; the values stay
    as the lead wrote them (dates and sums as the reader writes them)."""
    lines = []
    for key, label in FIELD_LABELS.items():
        before, after = old.get(key), new.get(key)
        if before != after:
            lines.append(_("%(field)s: %(before)s → %(after)s", field=label, before=_shown_field(key, before, old),
                           after=_shown_field(key, after, new)))
    return lines


def stored_changes(lines: list[Any]) -> list[Any]:
    """The lines of ``changes`` as the store keeps them (``mailer.locale.stored``)."""
    return [stored.dump(line) for line in lines]


def said_changes(charter: dict) -> list[Any]:
    """The stored lines of "what changed since version N", to be said in each reader's
    language (a version made before they were kept as parts reads as it was written)."""
    return [stored.load(line) for line in charter.get("changes") or []]


def _shown_field(key: str, value: Any, spec: dict) -> str:
    """A field's value as every email writes that kind of value (money, dates); the kind and the
    rule in words, as the charter email says them."""
    if key == "kind" and value in KIND_LABELS:
        return KIND_LABELS[value]
    if key == "rule" and value is not None:
        return rule_text(spec)
    if key == "budget" and value is not None:
        return formats.money(value, spec.get("currency") or "")
    if key == "deadline" and value:
        return formats.date(date.fromisoformat(str(value)))
    return _shown(value)


def _shown(value: Any) -> str:
    if value is None or value == [] or value == "":
        return _("(none)")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, float):
        return formats.number(value) if round(value, 2) == value else _number(value)
    return str(value)
