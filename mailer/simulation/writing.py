"""What simulated members write: journal entries, requests and sign-offs in five languages,
and the machine mail that real mailboxes send back (out-of-office notices, bounces).
"""
from __future__ import annotations

import email
import email.header
import email.policy
import random
from datetime import datetime
from email.header import Header
from email.message import Message
from email.utils import format_datetime, formataddr, parseaddr

from mailer.outbound.envelope import new_message_id
from mailer.simulation.community import Member
from mailer.simulation.mime import flatten, text_part
from mailer.simulation.replies import compose_reply

ENTRIES = {
    "en": ("Mapped our pipeline today: seven stages, two of them manual gates.",
           "Paired with a colleague on the flaky test. It was a race in the setup, now fixed.",
           "Timed a change from commit to production: 3 h 40 min, mostly waiting for approval.",
           "Short one: wrote the first page of our runbook.",
           "Tried the exercise with the team in our stand-up. Good discussion about alerts."),
    "de": ("Heute unsere Pipeline aufgezeichnet: sieben Stufen, zwei davon manuell.",
           "Mit einer Kollegin den wackligen Test untersucht, es war ein Timing-Problem.",
           "Kurz heute: die erste Seite unseres Runbooks geschrieben."),
    "fr": ("Cartographié notre pipeline aujourd'hui : sept étapes, dont deux manuelles.",
           "Court aujourd'hui : j'ai écrit la première page de notre runbook.",
           "Exercice fait avec l'équipe pendant le point du matin."),
    "es": ("Hoy dibujamos nuestro pipeline: siete etapas, dos de ellas manuales.",
           "Breve: escribí la primera página de nuestro runbook.",
           "Hicimos el ejercicio con el equipo en la reunión diaria."),
    "ja": ("今日はパイプラインを図にしました。七つの段階のうち二つが手作業です。",
           "短いですが、ランブックの最初のページを書きました。"),
}
PAUSE = {"en": "Please pause my emails for a few days, I'm travelling.", "de": "Pause bitte",
         "fr": "pause s'il vous plaît", "es": "pausa por favor", "ja": "pause"}
RESUME = {"en": "resume", "de": "Bitte fortsetzen", "fr": "reprendre", "es": "reanudar", "ja": "resume"}
STOP = {"en": "stop", "de": "stop", "fr": "stop", "es": "stop", "ja": "stop"}
AWAY = {"en": "I am out of the office with limited access to email and will reply when I return.",
        "de": "Ich bin nicht im Büro und habe nur eingeschränkten Zugriff auf meine E-Mails.",
        "fr": "Je suis absent du bureau et je répondrai à mon retour.",
        "es": "Estoy fuera de la oficina y responderé a mi regreso.",
        "ja": "不在にしております。戻り次第ご返信いたします。"}
AWAY_SUBJECT = {"en": "Automatic reply", "de": "Automatische Antwort", "fr": "Réponse automatique",
                "es": "Respuesta automática", "ja": "Automatic reply"}

# -- charters, calls and meetups: what a person means, in the words they use -----------------
# Each is what people were seen to write; the service must read the meaning, not the words.
APPROVE = {"en": ("Approved.", "Looks good, approved",
                  "Approved — great initiative, happy to give the team the time."),
           "de": ("Genehmigt, gute Idee.",), "fr": ("Approuvé, merci !",), "es": ("Aprobado, buena iniciativa.",),
           "ja": ("Approved. よろしくお願いします。",)}
UNSURE = {"en": "I'm not sure yet — can we discuss?",
          "de": "Ich bin mir noch nicht sicher, können wir darüber sprechen?",
          "fr": "Je ne suis pas encore sûr, on peut en parler ?", "es": "Todavía no estoy seguro, ¿lo hablamos?",
          "ja": "I'm not sure yet — can we discuss? 少し相談させてください。"}
APPROVE_AFTER_TALK = {"en": "Approved, thanks for walking me through it.",
                      "de": "Genehmigt, danke für die Erklärung.",
                      "fr": "Approuvé, merci pour les explications.", "es": "Aprobado, gracias por la explicación.",
                      "ja": "Approved. ご説明ありがとうございました。"}
VOLUNTEER = {"en": ("I'm in", "Count me in!", "Happy to help with this."), "de": ("Ich bin dabei!",),
             "fr": ("Je suis partant, comptez sur moi.",), "es": ("Me apunto.",), "ja": ("I'm in! 参加します。",)}
# "I'm in" that says where someone is, not that they join: the service must not sign them up
BUSY = {"en": ("I'm in a meeting until 3, will read later",
               "I'm in London this week, will look at it on Monday"),
        "de": ("Ich bin gerade in einem Meeting, lese es später.",),
        "fr": ("Je suis en réunion jusqu'à 15h, je lis plus tard.",),
        "es": ("Estoy en una reunión hasta las 3, lo leo después.",),
        "ja": ("I'm in a meeting until 3, will read later",)}
NOT_THIS_TIME = {"en": "Not this time, sorry — too much on my plate.", "de": "Nein, diesmal leider nicht.",
                 "fr": "Pas cette fois, désolé.", "es": "Esta vez no, lo siento.", "ja": "Not this time, sorry."}
RSVP_WORDS = {"accepted": {"en": ("See you there!", "I'll be there."), "de": ("Ich komme gerne.",),
                           "fr": ("J'y serai !",), "es": ("Sí, allí estaré.",), "ja": ("See you there! 参加します。",)},
              "declined": {"en": ("Sorry, can't make it.", "Can't make it, sorry — I'm travelling."),
                           "de": ("Leider kann ich nicht.",), "fr": ("Désolé, je ne peux pas venir.",),
                           "es": ("Lo siento, no puedo ir.",), "ja": ("Sorry, can't make it.",)},
              "tentative": {"en": ("Maybe, it depends on my release that day.",), "de": ("Vielleicht.",),
                            "fr": ("Peut-être.",), "es": ("Quizás.",), "ja": ("Maybe.",)}}


def entry_text(rng: random.Random, member: Member, share: bool) -> str:
    """A journal entry as this member writes it, with their client's sign-off below it."""
    text = rng.choice(ENTRIES[member.language]) + (" #share" if share else "")
    return text + signoff(member)


def signoff(member: Member) -> str:
    """What the member's habit or mail program adds below their words."""
    first = member.name.split()[0]
    if member.client == "mobile":
        return "\n\nSent from my iPhone" if member.language == "en" else "\n\nVon meinem iPhone gesendet"
    if member.client == "outlook":
        return f"\n\nBest regards,\n{member.name}\nPlatform Engineering"
    if member.client == "gmail":
        return f"\n\n-- \n{member.name}"
    return f"\n\n{first}"


def reply(original: bytes, member: Member, text: str, now: datetime) -> bytes:
    """The bytes of the member's reply to ``original``, as their client writes it."""
    client = "apple" if member.client == "mobile" else member.client
    return compose_reply(original, member.email, member.name, text, client, now)


def out_of_office(original: bytes, member: Member, now: datetime) -> bytes:
    """An Outlook-style automatic reply to ``original`` (no human wrote it)."""
    return flatten(out_of_office_message(original, member, now))


def out_of_office_message(original: bytes, member: Member, now: datetime) -> Message:
    """``out_of_office``'s message, before it is written out as bytes."""
    orig = email.message_from_bytes(original, policy=email.policy.compat32)
    msg = text_part(AWAY[member.language], "plain")
    msg["From"] = formataddr((member.name, member.email), charset="utf-8")
    msg["To"] = orig.get("Reply-To") or orig.get("From") or ""
    subject = f"{AWAY_SUBJECT[member.language]}: {_subject(orig)}"
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    msg["Auto-Submitted"] = "auto-replied"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = new_message_id("sim.example.com")
    msg["In-Reply-To"] = orig.get("Message-ID", "")
    return msg


def bounce(original: bytes, member: Member, now: datetime) -> bytes:
    """A Postfix-style delivery status notification for ``original``: the mailbox does not exist.

    Written out by hand, as an MTA does: the email package cannot build a message/delivery-status
    part from text, and the DSN's shape (RFC 3464) is what the inbox is tested against.
    """
    orig = email.message_from_bytes(original, policy=email.policy.compat32)
    ours = parseaddr(orig.get("Return-Path") or orig.get("From") or "")[1]
    boundary = f"dsn-{new_message_id('sim').strip('<>').split('@')[0]}"
    returned = "".join(f"{k}: {v}\r\n" for k, v in orig.items())
    text = (f"From: MAILER-DAEMON@sim.example.com (Mail Delivery System)\r\nTo: {ours}\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
            f"Date: {format_datetime(now)}\r\nMessage-ID: {new_message_id('sim.example.com')}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n"
            f" boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"Your message could not be delivered to {member.email}: user unknown.\r\n\r\n"
            f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.sim.example.com\r\n\r\nFinal-Recipient: rfc822; {member.email}\r\n"
            f"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n--{boundary}--\r\n")
    return text.encode("utf-8", "replace")


def _subject(msg: Message) -> str:
    value = msg.get("Subject", "")
    return str(email.header.make_header(email.header.decode_header(value))) if value else ""


def said(rng: random.Random, member: Member, phrases: dict[str, tuple[str, ...] | str]) -> str:
    """One of the member's phrases for something, in their language, with their sign-off."""
    options = phrases.get(member.language) or phrases["en"]
    return (options if isinstance(options, str) else rng.choice(options)) + signoff(member)
