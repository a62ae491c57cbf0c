"""inbound.reply: the new text of a reply, from our own example emails (one per client style
and per language), table-driven; plus properties: never raises, never invents text."""
from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.inbound.html_text import html_to_text
from mailer.inbound.message import parse_message
from mailer.inbound.reply import extract_reply, html_reply, reply_from_parts, reply_text

ANSWER = "Day 4 done: 25 minutes of sketching.\nThe second half was easier."
QUOTED = "> Day 4: sketch for 20 minutes.\n> Reply to this email to journal.\n"
ORIGINAL = "Day 4: sketch for 20 minutes.\nReply to this email to journal.\n"
ADDR = "Practice Team <cop@example.org>"

# Attribution lines as each language's clients write them (Gmail unless noted).
ATTRIBUTIONS = {
    "en": f"On Tue, Mar 4, 2025 at 7:00 AM {ADDR} wrote:",
    "de": f"Am Di., 4. März 2025 um 07:00 Uhr schrieb {ADDR}:",
    "de-inbox": "Practice Team <cop@example.org> schrieb am Di., 4. März 2025 um 07:00 Uhr:",
    "fr": f"Le mar. 4 mars 2025 à 07:00, {ADDR} a écrit :",
    "es": "El mar, 4 mar 2025 a las 7:00, Practice Team (<cop@example.org>) escribió:",
    "pt": f"Em ter., 4 de mar. de 2025 às 07:00, {ADDR} escreveu:",
    "it": f"Il giorno mar 4 mar 2025 alle ore 07:00 {ADDR} ha scritto:",
    "nl": f"Op di 4 mrt 2025 om 07:00 schreef {ADDR}:",
    "nl-apple": f"Op 4 mrt. 2025 om 07:00 heeft {ADDR} het volgende geschreven:",
    "pl": f"wt., 4 mar 2025 o 07:00 {ADDR} napisał(a):",
    "sv": f"Den tis 4 mars 2025 kl 07:00 skrev {ADDR}:",
    "da": f"Den tir. 4. mar. 2025 kl. 07.00 skrev {ADDR}:",
    "no": f"tir. 4. mar. 2025 kl. 07:00 skrev {ADDR}:",
    "ja": f"2025年3月4日(火) 7:00 {ADDR}:",
    "ja-apple": f"2025/03/04 7:00、{ADDR}のメッセージ:",
    "zh": f"{ADDR} 于2025年3月4日周二 07:00写道：",
    "ko": f"2025년 3월 4일 (화) 오전 7:00, {ADDR}님이 작성:",
    "ru": f"вт, 4 мар. 2025 г. в 07:00, {ADDR}:",
    "uk": f"вт, 4 бер. 2025 р. о 07:00 {ADDR} пише:",
    "fi": f"ti 4.3.2025 klo 7.00 {ADDR} kirjoitti:",
    "ca": "El dt., 4 de març 2025 a les 7:00, Practice Team (<cop@example.org>) va escriure:",
    "vi": f"Vào Th 3, 4 thg 3, 2025 vào lúc 07:00 {ADDR} đã viết:",
}

# Outlook desktop's header block, in each language's words.
OUTLOOK_BLOCKS = {
    "en": ("From", "Sent", "To", "Subject"),
    "de": ("Von", "Gesendet", "An", "Betreff"),
    "fr": ("De", "Envoyé", "À", "Objet"),
    "es": ("De", "Enviado el", "Para", "Asunto"),
    "pt": ("De", "Enviado", "Para", "Assunto"),
    "it": ("Da", "Inviato", "A", "Oggetto"),
    "nl": ("Van", "Verzonden", "Aan", "Onderwerp"),
    "pl": ("Od", "Wysłano", "Do", "Temat"),
    "sv": ("Från", "Skickat", "Till", "Ämne"),
    "da": ("Fra", "Sendt", "Til", "Emne"),
    "no": ("Fra", "Sendt", "Til", "Emne"),
    "ja": ("差出人", "送信日時", "宛先", "件名"),
    "zh": ("发件人", "发送时间", "收件人", "主题"),
    "ko": ("보낸 사람", "보낸 날짜", "받는 사람", "제목"),
    "ru": ("От", "Отправлено", "Кому", "Тема"),
    "fi": ("Lähettäjä", "Lähetetty", "Vastaanottaja", "Aihe"),
}

MOBILE_FOOTERS = [
    "Sent from my iPhone", "Sent from my Galaxy", "Get Outlook for iOS<https://aka.ms/o0ukef>",
    "Sent from Yahoo Mail on Android", "Von meinem iPhone gesendet", "Envoyé de mon iPhone",
    "Enviado desde mi iPhone", "Enviado do meu iPhone", "Inviato da iPhone",
    "Verzonden vanaf mijn iPhone", "Wysłane z iPhone'a", "Skickat från min iPhone",
    "Sendt fra min iPhone", "iPhoneから送信", "从我的iPhone发送", "iPhone에서 보냄",
    "Отправлено с iPhone", "Sent from my Android phone, please excuse typos",
]


@pytest.mark.parametrize("lang", sorted(ATTRIBUTIONS))
def test_attribution_and_quote_are_removed(lang):
    text = f"{ANSWER}\n\n{ATTRIBUTIONS[lang]}\n\n{QUOTED}"
    assert extract_reply(text) == ANSWER


@pytest.mark.parametrize("lang", sorted(ATTRIBUTIONS))
def test_attribution_over_unquoted_history(lang):
    # Outlook and mobile Gmail put the old message under the attribution without ">".
    text = f"{ANSWER}\n\n{ATTRIBUTIONS[lang]}\n\n{ORIGINAL}"
    assert extract_reply(text) == ANSWER


@pytest.mark.parametrize("lang", sorted(OUTLOOK_BLOCKS))
def test_outlook_header_block_is_removed(lang):
    sender, sent, to, subject = OUTLOOK_BLOCKS[lang]
    block = (f"{sender}: {ADDR}\n{sent}: 4.3.2025 07:00\n{to}: Anna Berg <anna@example.org>\n"
             f"{subject}: Day 4\n\n{ORIGINAL}")
    assert extract_reply(f"{ANSWER}\n\n{block}") == ANSWER
    assert extract_reply(f"{ANSWER}\n________________________________\n{block}") == ANSWER


@pytest.mark.parametrize("footer", MOBILE_FOOTERS)
def test_mobile_footer_is_removed(footer):
    text = f"{ANSWER}\n\n{footer}\n\n{ATTRIBUTIONS['en']}\n{QUOTED}"
    assert extract_reply(text) == ANSWER


# One example per client style, as that client lays out a plain-text reply.
CLIENT_STYLES = {
    "gmail wrapped attribution": (
        f"{ANSWER}\n\nOn Tue, Mar 4, 2025 at 7:00 AM Practice Team of the Sketching Circle <\n"
        f"cop+a1b2c3@example.org> wrote:\n\n{QUOTED}", ANSWER),
    "gmail attribution split before wrote": (
        f"{ANSWER}\n\nOn Tue, 4 Mar 2025, 07:00 Practice Team <cop@example.org>\nwrote:\n\n{QUOTED}",
        ANSWER),
    "outlook desktop": (
        f"{ANSWER}\n\nFrom: Practice Team <cop@example.org>\nSent: Tuesday, March 4, 2025 7:00 AM\n"
        f"To: Anna Berg <anna@example.org>\nSubject: Day 4\n\n{ORIGINAL}", ANSWER),
    "outlook original message": (
        f"{ANSWER}\n\n-----Original Message-----\nFrom: cop@example.org\nSent: Tuesday\n\n{ORIGINAL}",
        ANSWER),
    "outlook web": (
        f"{ANSWER}\n\n________________________________\nFrom: Practice Team <cop@example.org>\n"
        f"Sent: Tuesday, March 4, 2025 07:00\nTo: Anna Berg\nSubject: Day 4\n\n{ORIGINAL}", ANSWER),
    "outlook mobile": (
        f"{ANSWER}\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>\n"
        f"________________________________\nFrom: Practice Team <cop@example.org>\n"
        f"Sent: Tuesday, March 4, 2025 7:00:12 AM\nTo: Anna Berg\nSubject: Day 4\n\n{ORIGINAL}",
        ANSWER),
    "gmail bold outlook block": (
        f"{ANSWER}\n\n *From:* Practice Team [mailto:cop@example.org]\n *Sent:* Tuesday\n"
        f" *To:* anna@example.org\n *Subject:* Day 4\n\n{ORIGINAL}", ANSWER),
    "apple mail": (f"{ANSWER}\n\n> On 4 Mar 2025, at 07:00, {ADDR} wrote:\n>\n{QUOTED}", ANSWER),
    "iphone": (f"{ANSWER}\n\nSent from my iPhone\n\n> On Mar 4, 2025, at 7:00 AM, {ADDR} wrote:\n"
               f">\n{QUOTED}", ANSWER),
    "thunderbird": (f"{ANSWER}\n\nOn 04/03/2025 07:00, Practice Team wrote:\n{QUOTED}", ANSWER),
    "android forward": (f"{ANSWER}\n\n-------- Original message --------\nFrom: {ADDR}\n"
                        f"Date: 3/4/25 07:00 (GMT+01:00)\nTo: anna@example.org\n\n{ORIGINAL}", ANSWER),
    "yahoo": (f"{ANSWER}\n\n    On Tuesday, March 4, 2025, 07:00:00 AM GMT+1, {ADDR} wrote:\n\n"
              f"{ORIGINAL}", ANSWER),
}


@pytest.mark.parametrize("style", sorted(CLIENT_STYLES))
def test_client_styles(style):
    text, expected = CLIENT_STYLES[style]
    assert extract_reply(text) == expected


# What a person wrote must survive untouched.
KEPT = {
    "line starting with On": "On Monday I sketched the harbour.\nOn the whole, a good week.",
    "line starting with From": "From: my sketchbook, page 12\nI kept going after the timer rang.",
    "bullets": "Today:\n\n- the harbour\n- two boats\n   * one with a red sail\n\nDone.",
    "emoji and accents": "Fait ! 🎉 Très content de l'aquarelle.\nŻółw, čaj, ñandú — all sketched.",
    "sent from as a sentence": "Sent from my desk, which is much easier than my phone.",
    "dashes inside text": "A fix -- not a signature.\n-- first point\n-- second point",
    "someone wrote without a date": "Here is what my teacher wrote:\nkeep the pencil loose.",
    "single name sign-off": "Sketched for 20 minutes.\n\nThanks,\nAnna",
}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_own_words_are_kept(name):
    assert extract_reply(KEPT[name]) == KEPT[name]


SIGNATURES = {
    "rfc 3676 delimiter": (f"{ANSWER}\n\n-- \nAnna Berg\nIllustrator", ANSWER),
    "valediction with sender name": (f"{ANSWER}\n\nBest regards,\nAnna", ANSWER),
    "contact block": (f"{ANSWER}\n\nKind regards,\n\nAnna Berg\nSenior Designer, Acme Ltd\n"
                      f"+44 20 7946 0000\nhttps://acme.example", ANSWER),
    "german valediction": (f"{ANSWER}\n\nViele Grüße\nAnna", ANSWER),
    "dash name": (f"{ANSWER}\n\n-Anna Berg", ANSWER),
    "disclaimer": (f"{ANSWER}\n\nThis email and any attachments are confidential and intended "
                   f"solely for the addressee.", ANSWER),
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signatures_are_removed(name):
    text, expected = SIGNATURES[name]
    assert extract_reply(text, sender_name="Anna Berg") == expected


def test_bottom_posted_answer_is_found():
    text = f"{ATTRIBUTIONS['en']}\n{QUOTED}\n{ANSWER}\n"
    assert extract_reply(text) == ANSWER


def test_interleaved_answers_keep_only_new_lines():
    text = f"Hi,\n{ATTRIBUTIONS['en']}\n> Question one?\n\nAnswer one.\n\n> Question two?\n\nAnswer two."
    assert extract_reply(text) == "Hi,\n\nAnswer one.\n\nAnswer two."


def test_quoted_forward_ends_the_reply():
    text = f"{ANSWER}\n\n> Begin forwarded message:\n>\n> From: {ADDR}\n> Subject: x\n\nOld footer"
    assert extract_reply(text) == ANSWER


def test_only_history_gives_nothing():
    assert extract_reply(f"-----Original Message-----\nFrom: {ADDR}\nSent: Tuesday\n\n{ORIGINAL}") == ""
    assert extract_reply("") == ""


# -- HTML ------------------------------------------------------------------------------------

HTML_REPLIES = {
    "gmail": ('<div dir="ltr">Day 4 done.<div><br></div><div>Easier today.</div></div><br>'
              '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Mar 4, 2025 at '
              '7:00 AM Practice Team &lt;cop@example.org&gt; wrote:<br></div><blockquote '
              'class="gmail_quote">Day 4: sketch for 20 minutes.</blockquote></div>'),
    "outlook web": ('<div>Day 4 done.</div><div>Easier today.</div><div id="appendonsend"></div>'
                    '<hr><div id="divRplyFwdMsg"><b>From:</b> Practice Team<br><b>Sent:</b> '
                    'Tuesday<br></div><div>Day 4: sketch for 20 minutes.</div>'),
    "outlook desktop": ('<div class="WordSection1"><p class="MsoNormal">Day 4 done.<o:p></o:p></p>'
                        '<p class="MsoNormal">Easier today.</p><div style="border:none;border-top:'
                        'solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:'
                        '</b> Practice Team<br><b>Sent:</b> Tuesday</p></div><p>Day 4: sketch.</p></div>'),
    "apple mail": ('<html><body>Day 4 done.<div>Easier today.</div><div><br><blockquote type="cite">'
                   '<div>On 4 Mar 2025, at 07:00, Practice Team wrote:</div><div>Day 4: sketch.</div>'
                   '</blockquote></div></body></html>'),
    "thunderbird": ('<p>Day 4 done.<br>Easier today.</p><div class="moz-cite-prefix">On 04/03/2025 '
                    '07:00, Practice Team wrote:<br></div><blockquote type="cite">Day 4: sketch.'
                    '</blockquote>'),
}


@pytest.mark.parametrize("client", sorted(HTML_REPLIES))
def test_html_reply_is_cut_at_its_quote_container(client):
    assert html_reply(HTML_REPLIES[client]).split() == "Day 4 done. Easier today.".split()


def test_html_keeps_paragraphs_and_list_items():
    html = ("<style>p{color:red}</style><p>First paragraph.</p><p>Second &amp; last.</p>"
            "<ul><li>harbour</li><li>boats</li></ul><ol><li>one</li><li>two</li></ol>")
    assert html_to_text(html).text.split("\n") == [
        "First paragraph.", "", "Second & last.", "", "- harbour", "- boats", "", "1. one",
        "2. two", ""]


def test_html_bottom_post_falls_back_to_text_rules():
    html = f"<blockquote type='cite'>{ATTRIBUTIONS['en']}<br>Old text</blockquote><div>{ANSWER}</div>"
    assert html_reply(html).split() == ANSWER.split()


# -- whole messages ----------------------------------------------------------------------------

def _message(plain: str | None, html: str | None, charset: str = "utf-8", cte: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Anna Berg <anna@example.org>", "cop@example.org", "Re: Day 4"
    if plain is not None:
        msg.set_content(plain, charset=charset, cte=cte)
    if html is not None:
        if plain is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def test_reply_text_prefers_the_plain_part():
    raw = _message(f"{ANSWER}\n\nBest,\nAnna\n\n{ATTRIBUTIONS['de']}\n{QUOTED}", HTML_REPLIES["gmail"])
    assert reply_text(parse_message(raw)) == ANSWER


def test_reply_text_reads_html_only_messages():
    raw = _message(None, HTML_REPLIES["outlook web"])
    assert reply_text(parse_message(raw)).split() == "Day 4 done. Easier today.".split()


@pytest.mark.parametrize("charset,cte", [("iso-8859-1", "quoted-printable"), ("utf-8", "base64")])
def test_reply_text_after_transfer_encoding(charset, cte):
    body = f"Très bien, fini à 7h.\n\n{ATTRIBUTIONS['fr']}\n{QUOTED}"
    assert reply_text(parse_message(_message(body, None, charset, cte))) == "Très bien, fini à 7h."


# -- properties ---------------------------------------------------------------------------------

LINE_PARTS = st.sampled_from([
    "> ", ">> ", "On ", "wrote:", "From: ", "Sent: ", "To: ", "Subject: ", "-- ", "—", "-----",
    "Original Message", "Sent from my iPhone", "Regards,", "Anna", "<a@b.c>", "2025-03-04 ",
    "schrieb:", "a écrit :", "写道：", "_" * 32, "\t", " ", "é", "🎉", "\r", "\x00", "<div>",
])
TEXTS = st.lists(st.one_of(LINE_PARTS, st.text(max_size=12)), max_size=40).map("".join)
LINES = st.lists(TEXTS, max_size=30).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(LINES, st.one_of(st.none(), st.text(max_size=20)))
def test_never_raises_and_never_invents(text, sender):
    found = extract_reply(text, sender)
    source = {line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")}
    assert all(line in source for line in found.split("\n") if line)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_whole_message_path_never_raises(plain, html):
    raw = _message(plain or None, f"<div>{html}</div>" if html else None)
    assert isinstance(reply_text(parse_message(raw)), str)
    assert isinstance(html_reply(html), str)


def test_a_bare_first_name_under_a_sign_off_goes_when_we_know_the_name():
    raw = (b"From: tokyo@corp.example.com\r\nTo: cop@example.test\r\nSubject: Re: Day 2\r\n\r\n"
           b"Mapped the pipeline today.\r\n\r\nBest regards,\r\nTokyo\r\n")
    msg = parse_message(raw)
    assert reply_text(msg) == "Mapped the pipeline today.\n\nBest regards,\nTokyo"  # unknown: kept
    assert reply_text(msg, "Tokyo Yamada") == "Mapped the pipeline today."
    assert reply_text(msg, "Kenji Sato") == "Mapped the pipeline today.\n\nBest regards,\nTokyo"


# -- found by mutation testing (docs/testing.md): each fails on a mutant that survived -----------

def test_an_indented_quote_is_a_quote():
    # Some clients indent what they quote ("  > …"): the marker counts after leading blanks.
    text = f"{ANSWER}\n\n  {ATTRIBUTIONS['en']}\n  > Day 4: sketch for 20 minutes.\n  > Reply to journal.\n"
    assert extract_reply(text) == ANSWER
    assert extract_reply(f"{ANSWER}\n\n  > Day 4: sketch.\n   > Reply.\nMore of my own.") == (
        f"{ANSWER}\n\nMore of my own.")


def test_an_html_only_reply_loses_the_sign_off_of_the_name_we_know():
    raw = _message(None, "<div>Mapped the pipeline today.</div><div><br></div><div>Best regards,</div>"
                         "<div>Tokyo</div>")
    msg = parse_message(raw)
    assert reply_text(msg, "Tokyo Yamada").split() == "Mapped the pipeline today.".split()


def test_the_html_part_is_read_when_the_plain_part_leaves_nothing():
    plain = f"{ATTRIBUTIONS['en']}\n{QUOTED}"
    assert reply_from_parts(plain, "<div>Yes, approved.</div>") == "Yes, approved."
    assert reply_from_parts(plain, None) == ""


def test_an_empty_html_answer_above_its_quote_falls_back_to_the_whole_body():
    # Nothing above the quote container and no answered text: the text rules read the whole
    # body (the answer is below the quote), not the quote as if the person wrote it.
    html = f"<div><br></div><blockquote type='cite'>Day 4: sketch.</blockquote><div>{ANSWER}</div>"
    assert html_reply(html).split() == ANSWER.split()


def test_an_html_quote_container_is_cut_even_with_no_marker_in_its_text():
    # Outlook on the web's reply container holds the old text without ">" and here without a
    # header block: only the container says where the answer ends.
    html = '<div>Day 4 done.</div><div id="divRplyFwdMsg"><div>Day 4: sketch for 20 minutes.</div></div>'
    assert html_reply(html) == "Day 4 done."


def test_an_html_only_reply_loses_what_it_pastes_of_the_answered_email():
    pasted = "".join(f"<div>{line}</div>" for line in ORIGINAL.splitlines())
    raw = _message(None, f"<div>Yes, approved.</div><div><br></div>{pasted}")
    assert reply_text(parse_message(raw), "Anna Berg", ORIGINAL) == "Yes, approved."
    assert "sketch" in reply_text(parse_message(raw), "Anna Berg")  # without it: nothing to prove
