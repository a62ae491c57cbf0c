"""What the readers do with replies whose writer meant something, or nothing: per context, the
actions taken that the writer did not mean (the goal is 0 on every set) beside the meant
actions missed.

    .venv/bin/python -m bench.meaning [--corpus DIR] [--show N]

Two sets: the look-alikes written for cop-mailer (``bench/lookalikes``, each labelled with the
action meant or "ask") and the shared reply corpus (``../shared/corpus/replies``; its replies
answer other people's emails, so none of them means an action here: any action is unmeant).
Each reply is read as the service reads it: new text first (``inbound.reply``), then
``commands.interpret`` in each context.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer.inbound.commands import interpret  # noqa: E402
from mailer.inbound.message import parse_message  # noqa: E402
from mailer.inbound.reply import extract_reply, html_reply, reply_text  # noqa: E402

LOOKALIKES = Path(__file__).resolve().parent / "lookalikes"
CONTEXTS = ("approval", "volunteer", "meetup", "journal")
# What counts as acting in each context; everything else (unclear, a journal entry) asks.
ACTIONS = {"approval": {"approve", "reject", "request_changes"},
           "volunteer": {"volunteer", "withdraw", "decline"},
           "meetup": {"accept", "decline", "tentative"},
           "journal": {"pause", "resume", "stop", "join"}}


@dataclass(frozen=True)
class Reading:
    """One reply read in one context: what the writer meant, what the reader did."""

    case: str
    context: str
    lang: str
    meant: str
    read: str
    text: str

    @property
    def unmeant(self) -> bool:
        """An action the writer did not mean (the wrong action, or any action for "ask")."""
        return self.read in ACTIONS[self.context] and self.read != self.meant

    @property
    def missed(self) -> bool:
        """A meant action not taken (asked about instead, or read as another action)."""
        return self.meant in ACTIONS[self.context] and self.read != self.meant


def new_text(corpus: Path, row: dict) -> str:
    """The reply's new text, extracted as the service extracts it for the row's kind."""
    raw = corpus.joinpath(row["input"]).read_bytes()
    if row["kind"] == "eml":
        return reply_text(parse_message(raw))
    body = raw.decode("utf-8", errors="replace")
    return html_reply(body) if row["kind"] == "html" else extract_reply(body)


def rows(corpus: Path) -> list[dict]:
    """The manifest rows of a corpus folder (empty when it has none)."""
    manifest = corpus / "manifest.jsonl"
    if not manifest.is_file():
        return []
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_lookalikes(folder: Path = LOOKALIKES) -> list[Reading]:
    """Every look-alike read in its own context."""
    found = []
    for row in rows(folder):
        text = new_text(folder, row)
        found.append(Reading(row["case"], row["context"], row["lang"], row["intent"],
                             interpret(row["context"], text).intent, text))
    return found


def read_corpus(corpus: Path) -> list[Reading]:
    """Every unique corpus reply read in every context, meant as "ask" unless
    ``lookalikes/corpus_meant.json`` says what it would mean in answer to our email."""
    meant = json.loads((LOOKALIKES / "corpus_meant.json").read_text(encoding="utf-8"))
    found, seen = [], set()
    for row in rows(corpus):
        text = new_text(corpus, row)
        if text in seen:
            continue
        seen.add(text)
        for context in CONTEXTS:
            case = f"{row['source']}/{row['case']}"
            found.append(Reading(case, context, row.get("lang", "?"), meant.get(case, {}).get(context, "ask"),
                                 interpret(context, text).intent, text))
    return found


def table(readings: list[Reading]) -> dict[str, dict[str, int]]:
    """{context: {replies, meant actions, unmeant actions, meant missed}} and an ALL row."""
    out: dict[str, dict[str, int]] = {}
    for key in (*CONTEXTS, "ALL"):
        mine = [r for r in readings if key in (r.context, "ALL")]
        if mine:
            out[key] = {"replies": len(mine), "meant": sum(r.meant in ACTIONS[r.context] for r in mine),
                        "unmeant": sum(r.unmeant for r in mine), "missed": sum(r.missed for r in mine)}
    return out


def print_table(title: str, readings: list[Reading], show: int = 0) -> None:
    """A markdown table of ``table(readings)``, then up to ``show`` unmeant and missed cases."""
    print(f"\n### {title}\n\n| context | replies | meant actions | unmeant actions (goal 0) | meant missed |")
    print("|---|---|---|---|---|")
    for key, row in table(readings).items():
        print(f"| {key} | {row['replies']} | {row['meant']} | {row['unmeant']} | {row['missed']} |")
    wrong = [r for r in readings if r.unmeant] + [r for r in readings if r.missed]
    for r in wrong[:show]:
        what = "UNMEANT" if r.unmeant else "missed"
        print(f"- {what} [{r.case}] {r.context}/{r.lang}: meant {r.meant}, read {r.read}: {r.text[:90]!r}")


def report(corpus: Path, show: int = 0) -> dict:
    """Print both sets' tables (the corpus skipped cleanly when absent); return the figures."""
    figures = {}
    mine = read_lookalikes()
    print_table(f"look-alike replies ({len(mine)}, bench/lookalikes)", mine, show)
    figures["lookalikes"] = table(mine)
    theirs = read_corpus(corpus)
    if theirs:
        print_table(f"shared corpus ({len(theirs) // len(CONTEXTS)} unique replies x {len(CONTEXTS)} contexts)",
                    theirs, show)
        figures["corpus"] = table(theirs)
    else:
        print(f"\nno reply corpus at {corpus}: its unmeant actions are not counted")
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit 0."""
    from bench.replies import DEFAULT_CORPUS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="shared corpus folder")
    parser.add_argument("--show", type=int, default=20, help="list up to N unmeant or missed readings")
    args = parser.parse_args(argv)
    report(args.corpus, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
