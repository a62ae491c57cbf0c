"""The charter's emails as PlannedEmails: keys, subjects, templates and their context.

Each builder is pure. A ``#private`` check-in update never leaves the store: project news and
digests carry only shareable updates (DESIGN.md, principle 7). Keys — C charter, V version,
P person:

    charter:C:v:V:request:person:P          approval request (version V)
    charter:C:v:V:remind:person:P           the one reminder before the deadline
    charter:C:v:V:outcome:person:P          the outcome to proposer, team and sponsors
    charter:C:v:V:notneeded:person:P        "no need to answer" to approvers who had not
    charter:C:v:V:receipt:decision:D        "recorded your answer" to the approver
    charter:C:v:V:confirm:person:P:date:D   a held answer: "please confirm", one a day
    charter:C:v:V:answer:KIND:person:P      "already decided" / "superseded", once a version
    charter:C:v:V:forged:decision:D         to the proposer: a held answer D was disowned
    charter:C:answer:KIND:person:P:date:D   other short answers, once a day (unclear, empty, …)
    charter:C:checkin:R:person:P            check-in round R
    charter:C:findings:person:P             findings at the end
    charter:C:news:R:person:P               project news after round R
    charter:C:feedback:F:person:P           feedback F passed to a team member
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from mailer.flows.base import PlannedEmail
from mailer.flows.charter import definition as cdef
from mailer.locale.text import _, ngettext
from mailer.outbound import formats, markdown

DECISION_WORDS = {"approve": _("approved"), "reject": _("rejected"), "request_changes": _("asked for changes")}
OUTCOME_WORDS = {"approved": _("approved"), "rejected": _("rejected"), "changes_requested": _("changes requested"),
                 "expired": _("expired without a decision"), "completed": _("completed")}


# Where a charter stands once an answer settled it, for that approver's receipt.
SETTLED_SENTENCES = {
    "approved": _("With your answer the charter is approved; everyone involved will hear."),
    "rejected": _("With your answer the charter is rejected; everyone involved will hear."),
    "changes_requested": _("The proposer will revise it, and you will be asked to approve the new version."),
}


def pending_sentence(approvals: int, needed: int) -> str:
    """Where a pending charter stands: "1 of the 2 approvals it needs is in; …"."""
    return ngettext("%(num)s of the %(needed)s it needs is in; you can change your answer until it is decided.",
                    "%(num)s of the %(needed)s it needs are in; you can change your answer until it is decided.",
                    approvals, needed=formats.count(needed, "approval"))


def said(name: str, decision: str) -> str:
    """One approver's answer in the outcome's list: "Jonas Weber approved"."""
    if decision == "approve":
        return _("%(name)s approved", name=name)
    if decision == "reject":
        return _("%(name)s rejected", name=name)
    if decision == "request_changes":
        return _("%(name)s asked for changes", name=name)
    return f"{name} {decision}"


def re_subject(their_subject: str, fallback: str) -> str:
    """"Re: " and their subject without its own reply prefixes (Outlook's "RE:", "AW:", …)."""
    bare = re.sub(r"^(?:\s*(?:re|aw|sv|antw|r|rif|res)\s*:\s*)+", "", their_subject or "", flags=re.I).strip()
    return f"Re: {bare}" if bare else fallback


def view(charter: dict, names: dict[str, str]) -> dict[str, Any]:
    """The charter as a reader sees it; ``names`` maps each address to the person's name."""
    spec = charter["spec"]

    def who(address: str) -> str:
        return f"{names.get(address, address)} <{address}>"

    return {"id": charter["id"], "title": spec["title"], "kind": cdef.KIND_LABELS[spec["kind"]],
            "goal": spec["goal"], "scope": spec["scope"], "out_of_scope": spec["out_of_scope"],
            "proposer": who(spec["proposer"]), "proposer_name": names.get(spec["proposer"], spec["proposer"]),
            "team": [who(a) for a in spec["team"]], "open_places": spec["open_places"],
            "resourcing": cdef.resourcing(spec), "hours_per_week": f"{spec['hours_per_week']:g}",
            "duration_weeks": spec["duration_weeks"], "budget": cdef.budget_line(spec),
            "report_every_weeks": spec["report_every_weeks"],
            "learning_sponsors": [who(a) for a in spec["learning_sponsors"]],
            "funding_sponsors": [who(a) for a in spec["funding_sponsors"]],
            "approvers": [who(a) for a in spec["approvers"]], "rule": cdef.rule_text(spec),
            "deadline": formats.date(date.fromisoformat(spec["deadline"])), "version": charter["version"],
            "changes": cdef.said_changes(charter), "report_back": spec.get("report_back")}


def _headers(charter: dict) -> tuple[tuple[str, str], ...]:
    return (("X-Cop-Charter", str(charter["id"])),)


def _key(charter: dict, tail: str, versioned: bool = True) -> str:
    middle = f"v:{charter['version']}:" if versioned else ""
    return f"charter:{charter['id']}:{middle}{tail}"


def _ref(charter: dict) -> str:
    """The record an answer to the current version's emails is about."""
    return f"charter:{charter['id']}:v:{charter['version']}"


def request(charter: dict, shown: dict, person: dict, reminder: bool) -> PlannedEmail:
    """The approval request (or its reminder): the whole charter and how to answer."""
    title, version = shown["title"], charter["version"]
    subject = _("Approval requested: %(title)s (version %(version)s)", title=title, version=version) \
        if version > 1 else _("Approval requested: %(title)s", title=title)
    if reminder:
        subject = _("Reminder: %(title)s needs your answer by %(deadline)s", title=title, deadline=shown["deadline"])
    kind = "remind" if reminder else "request"
    return PlannedEmail(key=_key(charter, f"{kind}:person:{person['id']}"), to=person["email"], subject=subject,
                        template="charter/request", context={"charter": shown, "reminder": reminder},
                        reply_purpose="approval", reply_ref=f"charter:{charter['id']}:v:{version}",
                        headers=_headers(charter))


def outcome_key(charter: dict, person: dict) -> str:
    """The key of the outcome email to ``person``."""
    return _key(charter, f"outcome:person:{person['id']}")


def decided_key(charter: dict, person: dict) -> str:
    """The key of the "already decided" answer to ``person`` (once per person and version)."""
    return _key(charter, f"answer:decided:person:{person['id']}")


def outcome(charter: dict, shown: dict, person: dict, status: str, role: str,
            decided: list[dict], late: bool = False) -> PlannedEmail:
    """The outcome to the proposer, the team or a sponsor, with every decision and comment
    (``late``: it also tells them their own answer came after the decision)."""
    rows = [{"name": d["approver_name"], "word": DECISION_WORDS.get(d["decision"], d["decision"]),
             "said": said(d["approver_name"], d["decision"]), "comment": d["comment"]} for d in decided]
    return PlannedEmail(key=outcome_key(charter, person), to=person["email"],
                        subject=_("%(title)s: %(outcome)s", title=shown["title"], outcome=OUTCOME_WORDS[status]),
                        template="charter/outcome",
                        context={"charter": shown, "status": status, "role": role, "decisions": rows,
                                 "late": late}, reply_purpose="approval", reply_ref=_ref(charter),
                        headers=_headers(charter))


def not_needed(charter: dict, shown: dict, person: dict, status: str) -> PlannedEmail:
    """To an approver who had not answered: the charter was decided (or withdrawn) without them."""
    return PlannedEmail(key=_key(charter, f"notneeded:person:{person['id']}"), to=person["email"],
                        subject=_("%(title)s: no need to answer", title=shown["title"]), template="charter/not_needed",
                        reply_purpose="approval", reply_ref=_ref(charter),
                        context={"charter": shown, "status": status,
                                 "status_word": OUTCOME_WORDS.get(status, status)},
                        headers=_headers(charter))


def receipt(charter: dict, shown: dict, person: dict, decision: dict, standing: str,
            their_subject: str, in_reply_to: str | None) -> PlannedEmail:
    """"Recorded: you approved version 2" and where the charter stands."""
    return PlannedEmail(key=_key(charter, f"receipt:decision:{decision['id']}"), to=person["email"],
                        subject=re_subject(their_subject, shown["title"]),
                        template="charter/answer",
                        context={"charter": shown, "kind": "receipt", "word": DECISION_WORDS[decision["decision"]],
                                 "decision": decision["decision"],
                                 "comment": decision["comment"], "standing": standing},
                        auto_reply=True, in_reply_to=in_reply_to, headers=_headers(charter),
                        reply_purpose="approval", reply_ref=f"charter:{charter['id']}:v:{charter['version']}")


def confirm(charter: dict, shown: dict, person: dict, decision_id: int, decision: str, auth: str,
            today: date) -> PlannedEmail:
    """A held answer: the approver confirms by replying to this fresh request (one a day)."""
    return PlannedEmail(key=_key(charter, f"confirm:person:{person['id']}:date:{today.isoformat()}"),
                        to=person["email"],
                        subject=_("Please confirm your answer: %(title)s", title=shown["title"]),
                        template="charter/answer",
                        context={"charter": shown, "kind": "confirm", "auth": auth,
                                 "word": DECISION_WORDS[decision], "decision": decision},
                        reply_purpose="approval_confirm",
                        reply_ref=f"charter:{charter['id']}:v:{charter['version']}:held:{decision_id}",
                        headers=_headers(charter))


def forged(charter: dict, shown: dict, proposer: dict, approver: dict, held: dict) -> PlannedEmail:
    """To the proposer: an approver disowned a held answer sent in their name (once per answer)."""
    return PlannedEmail(key=_key(charter, f"forged:decision:{held['id']}"), to=proposer["email"],
                        subject=_("Someone may be sending mail as %(name)s: %(title)s", name=approver["name"],
                                  title=shown["title"]),
                        template="charter/forged",
                        context={"charter": shown, "approver": approver["name"],
                                 "approver_email": approver["email"], "word": DECISION_WORDS[held["decision"]],
                                 "decision": held["decision"],
                                 "received": held["at"].strftime("%Y-%m-%d %H:%M UTC"), "auth": held["auth"],
                                 "message_id": held["message_id"] or "", "decision_id": held["id"]},
                        headers=_headers(charter))


def answer(charter: dict, shown: dict, person: dict, kind: str, today: date, their_subject: str,
           in_reply_to: str | None, extra: dict[str, Any] | None = None) -> PlannedEmail:
    """One short answer (unclear, decided, superseded, empty, news_stopped, disowned).

    "decided" and "superseded" go once per person and version, the others once a day per kind;
    "unclear" and "empty" ask for a new reply, so they carry a token for the same purpose; the
    others carry one too, so that an answer to them has a place (the caller gives ``reply_ref``)."""
    purpose = {"unclear": "approval", "unclear_held": "approval_confirm", "decided": "approval",
               "superseded": "approval", "empty": "checkin", "files": "checkin",
               "news_stopped": "project_news"}.get(kind)
    ref = extra.pop("reply_ref", None) if extra else None
    once = kind in ("decided", "superseded")
    tail = f"answer:{kind}:person:{person['id']}" + ("" if once else f":date:{today.isoformat()}")
    return PlannedEmail(reply_purpose=purpose, reply_ref=ref if purpose else None, key=_key(charter, tail, once),
                        to=person["email"], subject=re_subject(their_subject, shown["title"]),
                        template="charter/answer", context={"charter": shown, "kind": kind, **(extra or {})},
                        auto_reply=True, in_reply_to=in_reply_to, headers=_headers(charter))


def checkin(charter: dict, shown: dict, person: dict, round_no: int, total: int, final: bool) -> PlannedEmail:
    """A check-in (what did you do, learn, need?) or, at the end, the ask for findings."""
    tail = "findings" if final else f"checkin:{round_no}"
    subject = _("%(title)s: your findings", title=shown["title"]) if final else \
        _("%(title)s: check-in %(round)s of %(total)s", title=shown["title"], round=round_no, total=total)
    return PlannedEmail(key=_key(charter, f"{tail}:person:{person['id']}", False), to=person["email"],
                        subject=subject, template="charter/checkin",
                        context={"charter": shown, "round": round_no, "total": total, "final": final},
                        reply_purpose="checkin", reply_ref=f"charter:{charter['id']}:round:{round_no}",
                        headers=_headers(charter))


def news(charter: dict, shown: dict, person: dict, round_no: int, shared: list[dict]) -> PlannedEmail:
    """Project news: the round's shareable updates (never a #private one), feedback by reply."""
    items = [{"name": u["name"], "date": formats.date(u["received_at"].date()), "text": u["text"],
              "html": markdown.paragraphs_html(u["text"])} for u in shared]
    return PlannedEmail(key=_key(charter, f"news:{round_no}:person:{person['id']}", False), to=person["email"],
                        subject=_("Project news: %(title)s", title=shown["title"]), template="charter/news",
                        context={"charter": shown, "round": round_no, "updates": items},
                        reply_purpose="project_news", reply_ref=f"charter:{charter['id']}:news:{round_no}",
                        recurring=True, headers=_headers(charter))


def feedback(charter: dict, shown: dict, person: dict, feedback_id: int, author: dict, text: str,
             at: datetime) -> PlannedEmail:
    """Feedback from a member on project news, passed to one team member, attributed."""
    return PlannedEmail(key=_key(charter, f"feedback:{feedback_id}:person:{person['id']}", False),
                        to=person["email"],
                        subject=_("%(title)s: feedback from %(name)s", title=shown["title"], name=author["name"]),
                        template="charter/feedback",
                        context={"charter": shown, "author": author["name"], "author_email": author["email"],
                                 "date": formats.date(at.date()), "text": text,
                                 "html": markdown.paragraphs_html(text)}, headers=_headers(charter))
