"""Values written for the recipient's locale with Babel; English as it always was."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from mailer.outbound import formats
from mailer.outbound.render import environment

D = date(2027, 1, 20)
START, END = datetime(2027, 1, 20, 7, tzinfo=timezone.utc), datetime(2027, 1, 20, 8, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("language,expected", [
    ("en", ["Wed 20 Jan 2027", "Wed 20 Jan", "08:05", "4,500 EUR", "99.50 EUR", "2 hours 30 minutes", "3 people",
            "Wed 20 Jan 2027, 08:00–09:30", "Wednesday 20 January 2027"]),
    ("de", ["Mi., 20. Jan. 2027", "Mi., 20. Jan.", "08:05", "4.500\xa0€", "99,50\xa0€", "2 Stunden 30 Minuten", "3 Personen",
            "Mi., 20. Jan. 2027, 08:00–09:30", "Mittwoch, 20. Januar 2027"]),
    ("fr", ["mer. 20 janv. 2027", "mer. 20 janv.", "08:05", "4\u202f500\xa0€", "99,50\xa0€", "2 heures 30 minutes",
            "3 personnes", "mer. 20 janv. 2027, 08:00–09:30", "mercredi 20 janvier 2027"]),
    ("ja", ["2027年1月20日(水)", "1月20日(水)", "8:05", "€4,500", "€99.50", "2時間30分", "3人",
            "2027年1月20日(水) 8:00–9:30", "2027年1月20日水曜日"]),
])
def test_each_kind_of_value_in_each_language(language, expected):
    said = [formats.date(D), formats.day(D), formats.time(time(8, 5)), formats.money(4500, "EUR"),
            formats.money(99.5, "EUR"), formats.duration(150), formats.count(3, "person", "people"),
            formats.time_range(START, END, "Europe/Paris"), formats.long_date(D)]
    assert [value.localize(language) for value in said] == expected


def test_a_formatted_value_is_english_text_until_rendered_in_a_language():
    shown = formats.day(D)
    assert shown == "Wed 20 Jan" and f"on {shown}" == "on Wed 20 Jan"
    template = environment(language="de").from_string("{{ when }} / {{ 4500|number }} / {{ D|date }}")
    assert template.render(when=shown, D=D) == "Mi., 20. Jan. / 4.500 / Mi., 20. Jan. 2027"


def test_zone_names_in_the_readers_language():
    assert formats.zone_name("Europe/Paris", "fr") == "heure d’Europe centrale"
    assert formats.zone_name("Asia/Tokyo", "de") == "Japanische Zeit"


def test_the_same_instant_in_two_zones_reads_as_each_zones_clock():
    london = datetime(2027, 3, 30, 18, 0, tzinfo=timezone.utc)
    new_york = london.astimezone(ZoneInfo("America/New_York"))
    assert (formats.time(london), formats.time(new_york)) == ("18:00", "14:00")
    assert (formats.time(london, language="de"), formats.time(new_york, language="de")) == ("18:00", "14:00")
