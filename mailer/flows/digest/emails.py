"""The emails of the digest flow: the digest itself, and what a reply to it sets off.

The digest reads in thirty seconds: what changed since the last one comes first, then one block
per challenge, charter, call or meetup with its status and its numbers in context. A
challenge's participation by day is an inline PNG with labelled axes (``chart``), an alt text
that says it in words and the few numbers that matter beside it; the text part shows the same
numbers and a row of block characters.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.lists import format_list

from mailer.flows.base import Attachment, DigestItem, PlannedEmail, RoutedReply
from mailer.flows.digest import chart as charts
from mailer.locale import SOURCE
from mailer.locale.text import Localized, _
from mailer.outbound import formats
from mailer.outbound.subject import reply_subject

KIND_ORDER = ("challenge", "charter", "call", "meetup")
KIND_HEADINGS = {"challenge": _("Challenges"), "charter": _("Projects"), "call": _("Calls for volunteers"),
                 "meetup": _("Meetups")}
BLOCKS = " ▁▂▃▄▅▆▇█"


class Names(Localized):
    """People's names as one phrase: "Ana and Ben" in English, as the language lists them
    elsewhere ("Ana und Ben", "AnaとBen": CLDR's list patterns, through Babel)."""

    __slots__ = ("names",)

    def __new__(cls, names: list[str]) -> "Names":
        made = super().__new__(cls, " and ".join(names))
        made.names = tuple(names)
        return made

    def localize(self, language: str) -> str:
        if language == SOURCE or not self.names:
            return str.__str__(self)
        return format_list(list(self.names), locale=language)

    def __reduce__(self) -> tuple:
        return Names, (list(self.names),)


def period_label(since: datetime, until: datetime, tz: str) -> str:
    """"4 Jan – 11 Jan 2027" in the recipient's time zone (the end is the moment it was due)."""
    zone = ZoneInfo(tz)
    return formats.period(since.astimezone(zone).date(), until.astimezone(zone).date())


def digest_context(person: dict, items: list[DigestItem], since: datetime, until: datetime,
                   whole_community: bool) -> dict:
    """Everything the digest template shows, from the flows' items."""
    ordered = _ordered(items)
    changes = [{"title": i.title, "line": line} for i in ordered for line in i.changed]
    first = {}
    for item in ordered:  # photos are numbered across the digest, in the order shown
        first[item.ref] = sum(len(i.photos) for i in ordered[:ordered.index(item)])
    groups = [{"heading": KIND_HEADINGS.get(kind, kind.title()), "kind": kind,
               "items": [_item(i, first[i.ref], ordered.index(i)) for i in ordered if i.kind == kind]}
              for kind in dict.fromkeys(i.kind for i in ordered)]
    return {"period": period_label(since, until, person["timezone"]), "whole_community": whole_community,
            "changes": changes, "groups": groups, "nothing_sponsored": not items,
            "since": since.isoformat(), "until": until.isoformat()}


def subject(context: dict, site_name: str) -> str:
    """The digest's subject line."""
    return _("%(site)s digest, %(period)s", site=site_name, period=context["period"])


def _item(item: DigestItem, first_photo: int, position: int) -> dict:
    return {"title": item.title, "status": item.status, "facts": list(item.facts),
            "highlights": [{"author": a, "text": t} for a, t in item.highlights],
            "chart": chart(item.chart, item.title, chart_cid(position)),
            "photos": [{"cid": photo_cid(first_photo + n), "author": a} for n, (a, _) in enumerate(item.photos)]}


def photo_cid(n: int) -> str:
    """The Content-ID of the digest's ``n``th photo."""
    return f"photo{n}@digest.cop-mailer"


def photo_attachments(items: list[DigestItem]) -> tuple[Attachment, ...]:
    """The thumbnails the digest shows inline, numbered as ``digest_context`` numbers them."""
    ordered = _ordered(items)
    thumbs = [data for item in ordered for _, data in item.photos]
    return tuple(Attachment(f"photo{n}.jpg", "image/jpeg", data, content_id=photo_cid(n)) for n, data in enumerate(thumbs))


def chart_cid(position: int) -> str:
    """The Content-ID of the chart of the digest's item at ``position`` (in the order shown)."""
    return f"chart{position}@digest.cop-mailer"


def chart_attachments(items: list[DigestItem], language: str = SOURCE) -> tuple[Attachment, ...]:
    """The participation charts the digest shows inline, one PNG per item that has one (its
    axes labelled in the recipient's ``language``)."""
    return tuple(Attachment(f"participation-{n}.png", "image/png", charts.png(charts.bars_of(item.chart), language),
                            content_id=chart_cid(n))
                 for n, item in enumerate(_ordered(items)) if item.chart)


def _ordered(items: list[DigestItem]) -> list[DigestItem]:
    return sorted(items, key=lambda i: (KIND_ORDER.index(i.kind) if i.kind in KIND_ORDER else 9, i.ref))


def chart(rows: tuple[tuple[str, int, int], ...], title: str, cid: str) -> dict | None:
    """The chart as the templates show it: its image (by ``cid``), its alt text, the key
    numbers beside it, and a block-character line for the text part."""
    if not rows:
        return None
    bars = charts.bars_of(rows)
    line = "".join(BLOCKS[min(round(8 * value / bars.out_of), 8)] if value else "·" for value in bars.values)
    return {"cid": cid, "alt": charts.alt_text(bars, title), "numbers": charts.key_numbers(bars),
            "width": charts.WIDTH, "height": charts.HEIGHT, "line": line, "out_of": bars.out_of,
            "first": charts.day_label(bars.labels[0]), "last": charts.day_label(bars.labels[-1])}


def forwarded(lead: dict, sponsor: dict, words: str, reply: RoutedReply) -> PlannedEmail:
    """The sponsor's words, passed to a community lead (who can answer the sponsor directly)."""
    return PlannedEmail(
        key=f"digest:reply:{reply.message.message_id or reply.received_at}:lead:{lead['id']}",
        to=lead["email"], subject=_("A sponsor wrote back: %(name)s", name=sponsor["name"]),
        template="digest/forwarded",
        context={"sponsor_name": sponsor["name"], "sponsor_email": sponsor["email"], "words": words,
                 "their_subject": reply.message.subject or ""},
        headers=(("Reply-To", sponsor["email"]),))


def passed_on(sponsor: dict, leads: list[dict], reply: RoutedReply) -> PlannedEmail:
    """A short note to the sponsor: their words reached the community leads."""
    return PlannedEmail(
        key=f"digest:reply:{reply.message.message_id or reply.received_at}:ack", to=sponsor["email"],
        subject=_re(reply.message.subject or _("Your digest")), template="digest/passed_on",
        context={"leads": [lead["name"] for lead in leads], "leads_named": Names([lead["name"] for lead in leads])},
        auto_reply=True,
        in_reply_to=reply.message.message_id, **_token(sponsor))


def unsubscribed(sponsor: dict, reply: RoutedReply) -> PlannedEmail:
    """Confirms that digests are off, and how to turn them back on."""
    return PlannedEmail(
        key=f"digest:reply:{reply.message.message_id or reply.received_at}:off", to=sponsor["email"],
        subject=_re(reply.message.subject or _("Your digest")), template="digest/unsubscribed", context={},
        auto_reply=True, in_reply_to=reply.message.message_id, **_token(sponsor))


def _token(sponsor: dict) -> dict[str, str]:
    """A reply to an answer about a digest is read as a reply to the digest (it reaches the leads)."""
    return {"reply_purpose": "digest", "reply_ref": f"digest:person:{sponsor['id']}"}


def _re(subject: str) -> str:
    return reply_subject(subject, _("Your digest"))


def one_week_before(moment: datetime) -> datetime:
    """The start of an out-of-cadence digest's period: the seven days before ``moment``."""
    return moment - timedelta(days=7)
