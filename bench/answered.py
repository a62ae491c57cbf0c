"""Reply extraction given the answered email's text, on the labelled corpus (bench/replies.py's).

The corpus keeps replies, not the emails they answer. For every case whose plain text quotes
with ``>``, the quoted lines (markers off) stand in for the answered email, as the outbox
would give it. Three rows, exact % / mean similarity against the expected text:

- "as written, without": ``extract_reply`` as the corpus runs it;
- "as written, with answered": the same replies, the answered text given (must not be worse);
- "quotes unmarked, with answered": the ``>`` markers and the attribution line taken away, as
  a client nobody has seen would send it; the answered text alone must find the history.

    .venv/bin/python -m bench.answered [--corpus DIR] [--failures N]
"""
from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.replies import DEFAULT_CORPUS, Case, load_cases, norm  # noqa: E402
from mailer.inbound.quotes import header_span, is_quoted, unquote  # noqa: E402
from mailer.inbound.reply import extract_reply  # noqa: E402


def answered_of(text: str) -> str:
    """The quoted lines of a reply, markers off: what the answered email said."""
    return "\n".join(unquote(line) for line in text.splitlines() if is_quoted(line))


def unmarked(text: str) -> str:
    """The reply as a client that marks nothing sends it: no ``>``, no "On … wrote:" line."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        span = header_span(lines, i)
        if span and i + span < len(lines) and any(is_quoted(x) for x in lines[i + span:i + span + 3]):
            i += span
            continue
        out.append(unquote(lines[i]) if is_quoted(lines[i]) else lines[i])
        i += 1
    return "\n".join(out)


def score(cases: list[Case], run) -> tuple[float, float, list[tuple[Case, str]]]:
    """Exact share, mean similarity and the misses of ``run`` over ``cases``."""
    exact, similar, misses = 0, 0.0, []
    for case in cases:
        got, want = norm(run(case), case.mode), norm(case.expected, case.mode)
        exact += got == want
        similar += difflib.SequenceMatcher(None, got, want, autojunk=False).ratio() if (got or want) else 1.0
        if got != want:
            misses.append((case, run(case)))
    return exact / len(cases), similar / len(cases), misses


def main(argv: list[str] | None = None) -> None:
    """Print the three rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--failures", type=int, default=0, help="print up to N misses of the last row")
    args = parser.parse_args(argv)
    cases = [c for c in load_cases(args.corpus) if not c.dup and c.meta["kind"] == "plain"
             and answered_of(c.text or "").strip()]
    rows = {
        "as written, without": lambda c: extract_reply(c.text or "", c.sender),
        "as written, with answered": lambda c: extract_reply(c.text or "", c.sender, answered_of(c.text or "")),
        "quotes unmarked, with answered": lambda c: extract_reply(unmarked(c.text or ""), c.sender,
                                                                  answered_of(c.text or "")),
    }
    print(f"plain cases quoting with '>': {len(cases)}\n\n| row | exact | similarity |\n|---|---|---|")
    misses: list = []
    for name, run in rows.items():
        exact, similar, misses = score(cases, run)
        print(f"| {name} | {exact:.0%} | {similar:.2f} |")
    for case, got in misses[:args.failures]:
        print(f"\n--- {case.meta['input']}\nexpected: {case.expected.strip()[:300]!r}\ngot:      {got[:300]!r}")


if __name__ == "__main__":
    main()
