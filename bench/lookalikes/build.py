"""Write the look-alike set in the reply corpus's format from ``cases.txt``.

    .venv/bin/python -m bench.lookalikes.build

Each case becomes ``inputs/NNN-CONTEXT-LANG.txt``: the reply as a mail client writes it (new
text, then the quoted email it answers, in Gmail, Outlook or Apple Mail style and in the case's
language) and one ``manifest.jsonl`` row with the corpus keys (source, input, expected_text,
kind, lang, compare, sig_policy, case, origin) plus ``context`` and ``intent``: the action the
writer meant, or "ask". The quoted emails name the actions on purpose ("Reply Approve…"):
only the writer's own new text may count.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = ("gmail", "outlook", "apple")
ASKED = {
    "approval": "Approval requested: Observability playbook\n\nReply with one of:\nApprove\n"
                "Reject: your reason\nChanges needed: what should change",
    "volunteer": "Volunteers wanted: writers and reviewers\n\nReply \"I'm in\" (and the role) to sign up,"
                 " or \"withdraw\" to take your name off.",
    "meetup": "Report-back meetup, Thu 14 Jan 15:00\n\nAre you coming? Reply yes, no or maybe.",
    "journal": "Day 4: map one pipeline stage.\n\nReply to journal. Reply pause, resume or stop to change"
               " your emails.",
}
# How each language's Gmail and Outlook introduce the quoted email (as those clients write it).
GMAIL_INTRO = {"en": "On Mon, 4 Jan 2027 at 10:00, Community of Practice <cop@example.org> wrote:",
               "de": "Am Mo., 4. Jan. 2027 um 10:00 Uhr schrieb Community of Practice <cop@example.org>:",
               "fr": "Le lun. 4 janv. 2027 à 10:00, Community of Practice <cop@example.org> a écrit :",
               "es": "El lun, 4 ene 2027 a las 10:00, Community of Practice (<cop@example.org>) escribió:",
               "ja": "2027年1月4日(月) 10:00 Community of Practice <cop@example.org>:"}
OUTLOOK_HEAD = {"en": ("From", "Sent", "To", "Subject"), "de": ("Von", "Gesendet", "An", "Betreff"),
                "fr": ("De", "Envoyé", "À", "Objet"), "es": ("De", "Enviado", "Para", "Asunto"),
                "ja": ("From", "Sent", "To", "Subject")}
MOBILE = {"en": "Sent from my iPhone", "de": "Von meinem iPhone gesendet", "fr": "Envoyé de mon iPhone",
          "es": "Enviado desde mi iPhone", "ja": "iPhoneから送信"}


def read_cases(path: Path = HERE / "cases.txt") -> list[dict]:
    """The cases of ``cases.txt``: context, lang, intent and text per line."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            context, lang, intent, text = (part.strip() for part in line.split("|", 3))
            cases.append({"context": context, "lang": lang, "intent": intent, "text": text.replace("\\n", "\n")})
    return cases


def as_written(text: str, context: str, lang: str, client: str) -> str:
    """The whole body a client sends: the new text above the quoted email it answers."""
    asked = ASKED[context]
    quoted = "\n".join(f"> {line}" if line else ">" for line in asked.splitlines())
    if client == "gmail":
        return f"{text}\n\n{GMAIL_INTRO[lang]}\n\n{quoted}\n"
    if client == "outlook":
        head = OUTLOOK_HEAD[lang]
        return (f"{text}\n\n________________________________\n{head[0]}: Community of Practice <cop@example.org>\n"
                f"{head[1]}: Monday, 4 January 2027 10:00\n{head[2]}: Member <member@example.org>\n"
                f"{head[3]}: {asked.splitlines()[0]}\n\n{asked}\n")
    intro = GMAIL_INTRO["en"].replace("On Mon, 4 Jan 2027 at 10:00", "On 4 Jan 2027, at 10:00")
    return f"{text}\n\n{MOBILE[lang]}\n\n> {intro}\n>\n{quoted}\n"


def build() -> int:
    """Write inputs/ and manifest.jsonl; return the number of cases."""
    inputs = HERE / "inputs"
    inputs.mkdir(exist_ok=True)
    for old in inputs.glob("*.txt"):
        old.unlink()
    rows = []
    for n, case in enumerate(read_cases(), start=1):
        client = CLIENTS[n % len(CLIENTS)]
        name = f"{n:03d}-{case['context']}-{case['lang']}.txt"
        (inputs / name).write_text(as_written(case["text"], case["context"], case["lang"], client), encoding="utf-8")
        rows.append({"source": "cop-mailer-lookalikes", "input": f"inputs/{name}", "kind": "plain",
                     "lang": case["lang"], "expected_text": case["text"], "case": name[:-4],
                     "origin": f"written for cop-mailer, {client} style", "compare": "strip",
                     "sig_policy": "stripped", "context": case["context"], "intent": case["intent"]})
    (HERE / "manifest.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                         encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"{build()} look-alike replies written to {HERE}")
