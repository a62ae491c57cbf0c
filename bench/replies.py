"""Reply-extraction benchmark: our extractor (and, optionally, peer libraries) on the labelled
reply corpus, the speed of parse + extract against a bare ``email.message_from_bytes``, and the
time to read each hostile reply of ``bench.hostile`` (20,000 lines, a 100k-character line,
200-deep MIME, 9 MB).

    .venv/bin/python -m bench.replies [--corpus DIR] [--peers] [--failures N] [--json] [--count N]

The corpus (../shared/corpus/replies, see its README.md) lists each case in manifest.jsonl:
``kind`` plain/html/eml, ``compare`` strip (whitespace runs collapsed) or nows (all
whitespace dropped, for HTML), ``sig_policy`` stripped/kept/mixed. Cases with identical
normalised input and expectation are counted once, as score_peers.py does. Rows:

- all unique cases;
- "signature stripped": unique cases whose expectation does not keep a signature (the goal);
- "neutral": unique cases from sources that are not the home test suite of a scored peer.

Then, per context (approval, volunteer, meetup, journal), the actions taken that the writer
did not mean beside the meant actions missed, on the corpus and on the look-alike replies of
``bench/lookalikes`` (``bench.meaning``; the goal is 0 unmeant actions on every set).

Peers (``--peers``; each optional, skipped when not importable; install them in .venv to
measure, they are not project dependencies): talon, email-reply-parser, mail-parser-reply,
quotequail. Without the corpus the accuracy part is skipped and the speed part runs on
built-in samples.
"""
from __future__ import annotations

import argparse
import collections
import difflib
import email
import email.policy
import json
import re
import sys
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import hostile, meaning  # noqa: E402
from mailer.inbound.classify import classify  # noqa: E402
from mailer.inbound.commands import interpret  # noqa: E402
from mailer.inbound.html_text import html_to_text  # noqa: E402
from mailer.inbound.message import parse_message  # noqa: E402
from mailer.inbound.reply import extract_reply, html_reply, reply_text  # noqa: E402

# The corpus sits in ../shared beside the checkout (or beside the folder of worktrees).
DEFAULT_CORPUS = next((p / "shared/corpus/replies" for p in Path(__file__).resolve().parents[1:4]
                       if (p / "shared/corpus/replies").is_dir()),
                      Path(__file__).resolve().parents[1].parent / "shared/corpus/replies")
# Sources that are not the home test suite of any scored peer (score_peers.py, README.md).
NEUTRAL = {"willdurand_erp", "crisp_erp", "discourse_trimmer"}
OURS = "cop-mailer"


@dataclass
class Case:
    """One manifest row, loaded: the bodies a peer sees and what is expected."""

    meta: dict
    raw: bytes
    text: str | None
    html: str | None
    expected: str
    sender: str | None = None
    dup: bool = False
    results: dict = field(default_factory=dict)  # peer -> (exact, similarity, output)

    @property
    def mode(self) -> str:
        """How outputs are compared: 'nows' (HTML cases) or 'strip'."""
        return "nows" if self.meta.get("compare") == "nows" else "strip"


def norm(text: str | None, mode: str) -> str:
    """score_peers.py's normalisation: collapse (strip) or drop (nows) all whitespace."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").replace("\u200b", "")
    return re.sub(r"\s+", "", text) if mode == "nows" else re.sub(r"\s+", " ", text).strip()


def load_cases(corpus: Path) -> list[Case]:
    """Read manifest.jsonl and mark duplicates (same normalised input and expectation)."""
    cases, seen = [], set()
    for row in corpus.joinpath("manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if row.strip():
            case = _load(corpus, json.loads(row))
            key = (norm(case.text or "", "strip"), norm(case.expected, case.mode))
            case.dup = key in seen
            seen.add(key)
            cases.append(case)
    return cases


def _load(corpus: Path, meta: dict) -> Case:
    raw = corpus.joinpath(meta["input"]).read_bytes()
    expected = (corpus.joinpath(meta["expected"]).read_text(encoding="utf-8", errors="replace")
                if "expected" in meta else meta["expected_text"])
    if meta["kind"] == "eml":
        msg = parse_message(raw)
        text = msg.text if msg.text is not None else html_to_text(msg.html or "").text
        return Case(meta, raw, text, msg.html, expected, msg.from_name or None)
    body = raw.decode("utf-8", errors="replace")
    if meta["kind"] == "html":
        return Case(meta, raw, html_to_text(body).text, body, expected)
    return Case(meta, raw, body, None, expected)


def ours(case: Case) -> str:
    """Our extractor, entered the way the service enters it for each kind of input."""
    if case.meta["kind"] == "eml":
        return reply_text(parse_message(case.raw))
    if case.meta["kind"] == "html":
        return html_reply(case.html or "")
    return extract_reply(case.text or "")


def peer_functions() -> dict[str, Callable[[Case], str]]:
    """The installed peer libraries, adapted as score_peers.py adapts them."""
    peers: dict[str, Callable[[Case], str]] = {}
    for loader in (_talon, _erp, _mpr, _quotequail):
        try:
            peers.update(loader())
        except Exception as exc:  # noqa: BLE001 - a peer that is absent or broken is skipped
            print(f"skip peer {loader.__name__.strip('_')}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return peers


def _talon() -> dict[str, Callable[[Case], str]]:
    import warnings
    warnings.filterwarnings("ignore", module="html5lib")  # talon's parser warns on Office markup
    import talon
    from talon import quotations
    from talon.signature.bruteforce import extract_signature
    talon.init()

    def run(case: Case) -> str:
        if case.meta["kind"] == "html" and case.html is not None:
            return html_to_text(quotations.extract_from_html(case.html) or "").text
        return quotations.extract_from_plain(case.text or "")
    return {"talon": run, "talon+sig": lambda case: extract_signature(run(case))[0]}


def _erp() -> dict[str, Callable[[Case], str]]:
    from email_reply_parser import EmailReplyParser
    return {"email-reply-parser": lambda case: EmailReplyParser.parse_reply(case.text or "")}


def _mpr() -> dict[str, Callable[[Case], str]]:
    from mailparser_reply import EmailReplyParser
    from mailparser_reply.constants import MAIL_LANGUAGES
    languages = [lang for lang in MAIL_LANGUAGES if lang != "david"]

    def run(case: Case) -> str:
        found = EmailReplyParser(languages=list(languages)).read(case.text or "")
        return found.replies[0].body if found.replies else ""
    return {"mail-parser-reply": run}


def _quotequail() -> dict[str, Callable[[Case], str]]:
    import quotequail

    def leading(parts) -> str:
        out = []
        for keep, chunk in parts:
            if not keep:
                break
            out.append(chunk)
        return "".join(out)

    def run(case: Case) -> str:
        if case.meta["kind"] == "html" and case.html is not None:
            return html_to_text(leading(quotequail.quote_html(case.html, quote_intro_line=True))).text
        return leading(quotequail.quote(case.text or "", quote_intro_line=True))
    return {"quotequail": run}


def score(cases: list[Case], runners: dict[str, Callable[[Case], str]]) -> None:
    """Run every runner on every case and store (exact, similarity, output) per runner."""
    for case in cases:
        if case.dup:
            continue
        want = norm(case.expected, case.mode)
        for name, run in runners.items():
            try:
                out = run(case)
                out = out.decode("utf-8", "replace") if isinstance(out, bytes) else (out or "")
            except Exception as exc:  # noqa: BLE001 - a peer's crash counts as a miss
                out = f"<{type(exc).__name__}: {exc}>"
            got = norm(out, case.mode)
            sim = difflib.SequenceMatcher(None, got, want, autojunk=False).ratio() if (got or want) else 1.0
            case.results[name] = (got == want, sim, out)


ROWS: dict[str, Callable[[Case], bool]] = {
    "all unique": lambda case: True,
    "signature stripped (goal)": lambda case: case.meta.get("sig_policy") != "kept",
    "neutral sources": lambda case: case.meta["source"] in NEUTRAL,
}


def aggregate(cases: list[Case], keep: Callable[[Case], bool], group: Callable[[Case], str]) -> dict:
    """{group: {runner: [n, exact, similarity sum]}} over unique cases passing ``keep``."""
    table: dict = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, 0.0]))
    for case in cases:
        if case.dup or not keep(case):
            continue
        for name, (exact, sim, _) in case.results.items():
            for key in (group(case), "ALL"):
                cell = table[key][name]
                cell[0] += 1
                cell[1] += exact
                cell[2] += sim
    return table


def print_table(title: str, table: dict, runners: list[str]) -> None:
    """A markdown table: one line per group, 'exact % / mean similarity' per runner."""
    print(f"\n### {title}\n")
    print("| group | n | " + " | ".join(runners) + " |")
    print("|---|---|" + "---|" * len(runners))
    for key in sorted(k for k in table if k != "ALL") + ["ALL"]:
        if key not in table:
            continue
        cells = table[key]
        n = cells[runners[0]][0]
        row = [f"{100 * c[1] / c[0]:.0f}% / {c[2] / c[0]:.2f}" if c[0] else "-"
               for c in (cells[r] for r in runners)]
        print(f"| {key} | {n} | " + " | ".join(row) + " |")


def failures(cases: list[Case], limit: int) -> list[dict]:
    """Our misses on unique cases, goal row first."""
    misses = [c for c in cases if not c.dup and OURS in c.results and not c.results[OURS][0]]
    misses.sort(key=lambda c: (c.meta.get("sig_policy") == "kept", c.meta["source"], c.meta["case"]))
    return [{"source": c.meta["source"], "case": c.meta["case"], "lang": c.meta["lang"],
             "sig_policy": c.meta.get("sig_policy"), "similarity": round(c.results[OURS][1], 3),
             "got": c.results[OURS][2], "expected": c.expected} for c in misses[:limit]]


# -- speed ---------------------------------------------------------------------------------

SAMPLES = [
    ("Anna <anna@example.org>", "Done: 20 minutes of sketching today.\n\nOn Tue, 4 Mar 2025 at 07:00, "
     "Practice <cop@example.org> wrote:\n> Day 4: sketch for 20 minutes.\n> Reply to journal.\n"),
    ("Jonas <jonas@example.de>", "Heute nur 10 Minuten.\n\nViele Grüße\nJonas\n\nVon: Practice "
     "<cop@example.org>\nGesendet: Dienstag, 4. März 2025 07:00\nAn: Jonas\nBetreff: Tag 4\n\nTag 4.\n"),
    ("Léa <lea@example.fr>", "Fait ! 🎉\n\nEnvoyé de mon iPhone\n\nLe 4 mars 2025 à 07:00, Practice "
     "<cop@example.org> a écrit :\n> Jour 4\n"),
]


def speed_messages(cases: list[Case], count: int) -> list[bytes]:
    """``count`` raw messages: the corpus cases cycled (plain and HTML wrapped in MIME), or
    the built-in samples when there is no corpus."""
    pool = [_as_message(c) for c in cases if not c.dup] or [_sample(s, t) for s, t in SAMPLES]
    return [pool[k % len(pool)] for k in range(count)]


def _as_message(case: Case) -> bytes:
    if case.meta["kind"] == "eml":
        return case.raw
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Member <m@example.org>", "cop@example.org", "Re: day 4"
    if case.meta["kind"] == "html":
        msg.set_content(case.html or "", subtype="html")
    else:
        msg.set_content(case.text or "")
    return msg.as_bytes()


def _sample(sender: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "cop@example.org", "Re: day 4"
    msg.set_content(body)
    return msg.as_bytes()


def measure_speed(messages: list[bytes], runs: int = 3) -> dict:
    """Best-of-``runs`` messages/s for parse + classify + extract + intent, and for a bare parse."""
    def ours_pass() -> None:
        for raw in messages:
            msg = parse_message(raw)
            classify(msg)
            interpret("journal", reply_text(msg))

    def parse_pass() -> None:
        for raw in messages:
            parse_message(raw)

    def bare_pass() -> None:
        for raw in messages:
            email.message_from_bytes(raw)
    ours_rate = _best_rate(ours_pass, len(messages), runs)
    parse_rate = _best_rate(parse_pass, len(messages), runs)
    bare_rate = _best_rate(bare_pass, len(messages), runs)
    return {"messages": len(messages), "ours_per_s": round(ours_rate),
            "parse_only_per_s": round(parse_rate), "bare_parse_per_s": round(bare_rate),
            "ratio": round(ours_rate / bare_rate, 3)}


def _best_rate(fn: Callable[[], None], count: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best if best > 0 else float("inf")


# -- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Parse arguments, score, time, print; exit 0 (also when the corpus is absent)."""
    args = _arguments(argv)
    cases: list[Case] = []
    if args.corpus.joinpath("manifest.jsonl").is_file():
        cases = load_cases(args.corpus)
    else:
        print(f"no reply corpus at {args.corpus}: accuracy skipped, speed on built-in samples",
              file=sys.stderr)
    runners = {OURS: ours, **(peer_functions() if args.peers else {})}
    score(cases, runners)
    speed = measure_speed(speed_messages(cases, args.count), args.runs)
    report = _report(cases, list(runners), speed, args.failures)
    report["hostile_seconds"] = hostile.timings()
    if args.json:
        report["meaning"] = {"lookalikes": meaning.table(meaning.read_lookalikes()),
                             "corpus": meaning.table(meaning.read_corpus(args.corpus))}
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        _print_report(cases, list(runners), report)
        print("\n## What the writers meant: actions taken that they did not mean, beside meant ones missed")
        meaning.report(args.corpus, args.failures)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder")
    parser.add_argument("--peers", action="store_true", help="also run installed peer libraries")
    parser.add_argument("--failures", type=int, default=0, help="print up to N of our failures")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--count", type=int, default=10_000, help="messages for the speed test")
    parser.add_argument("--runs", type=int, default=3, help="speed runs (best is reported)")
    return parser.parse_args(argv)


def _report(cases: list[Case], runners: list[str], speed: dict, limit: int) -> dict:
    rows = {}
    for title, keep in ROWS.items():
        rows[title] = {
            "by_source": _plain(aggregate(cases, keep, lambda c: c.meta["source"])),
            "by_language": _plain(aggregate(cases, keep, lambda c: c.meta["lang"])),
        }
    unique = sum(1 for c in cases if not c.dup)
    return {"cases": len(cases), "unique": unique, "runners": runners, "rows": rows,
            "speed": speed, "failures": failures(cases, limit)}


def _plain(table: dict) -> dict:
    return {key: {name: {"n": c[0], "exact": round(c[1] / c[0], 4) if c[0] else None,
                         "similarity": round(c[2] / c[0], 4) if c[0] else None}
                  for name, c in cells.items()} for key, cells in table.items()}


def _print_report(cases: list[Case], runners: list[str], report: dict) -> None:
    if cases:
        print(f"cases: {report['cases']} (unique {report['unique']}); cell = exact % / mean similarity")
        for title, keep in ROWS.items():
            print_table(f"{title}, by source", aggregate(cases, keep, lambda c: c.meta["source"]), runners)
            print_table(f"{title}, by language", aggregate(cases, keep, lambda c: c.meta["lang"]), runners)
    speed = report["speed"]
    print(f"\n### speed ({speed['messages']} messages, best of runs)\n")
    print(f"parse + classify + reply_text + interpret: {speed['ours_per_s']} messages/s")
    print(f"parse_message alone:                       {speed['parse_only_per_s']} messages/s")
    print(f"email.message_from_bytes:                  {speed['bare_parse_per_s']} messages/s")
    print(f"ratio (the whole reading / bare parse): {speed['ratio']}")
    print("\n### hostile replies (seconds to read one; each should stay under 1 s)\n")
    for name, seconds in report["hostile_seconds"].items():
        print(f"{name:26} {seconds:.3f} s")
    for miss in report["failures"]:
        print(f"\n--- [{miss['source']}/{miss['case']}] {miss['lang']} {miss['sig_policy']} "
              f"sim={miss['similarity']}\nGOT: {miss['got']!r}\nEXP: {miss['expected']!r}")


if __name__ == "__main__":
    sys.exit(main())
