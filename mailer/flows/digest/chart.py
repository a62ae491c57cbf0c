"""The digest's participation chart: a PNG drawn with Pillow, shown inline by ``cid:``.

Email clients cannot be trusted with CSS bars or SVG (Outlook's Word engine drops most CSS and
Gmail strips SVG), but every one of them shows an inline PNG from a multipart/related part. The
image is drawn at twice the size it is shown, so it stays sharp on high-density screens, and
its alt text says the same numbers in words for those who read without images.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.numbers import format_decimal
from PIL import Image, ImageDraw, ImageFont

from mailer.locale import SOURCE
from mailer.locale.text import Joined, Localized, _, localize, ngettext

SCALE = 2  # drawn at 2x, shown at WIDTH x HEIGHT
WIDTH, HEIGHT = 400, 200
LEFT, RIGHT, TOP, BOTTOM = 50, 10, 16, 44  # the plot area's margins, in shown pixels
BAR, TODAY, GRID, INK, MUTED = "#2da44e", "#1a7f37", "#d8dee4", "#24292f", "#57606a"


@dataclass(frozen=True)
class Bars:
    """Participation by day: ``values[i]`` people journaled on ``labels[i]``, of ``out_of``."""

    labels: tuple[str, ...]
    values: tuple[int, ...]
    out_of: int


def bars_of(rows: tuple[tuple[str, int, int], ...]) -> Bars:
    """The chart's data from a DigestItem's ``chart`` rows (label, value, out of)."""
    return Bars(tuple(r[0] for r in rows), tuple(r[1] for r in rows), max(max(r[2] for r in rows), 1))


# Pillow's own font has Latin, Greek and Cyrillic only: a Japanese axis title needs a CJK font
# from the system (Debian: fonts-noto-cjk or fonts-ipafont-gothic); without one the titles
# stay English, never boxes.
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
             "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")
CJK = ("ja",)


@lru_cache(maxsize=16)
def _font(size: int, cjk: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if cjk:
        found = cjk_font()
        if found is not None:
            return ImageFont.truetype(str(found), size * SCALE)
    return ImageFont.load_default(size=size * SCALE)


def cjk_font() -> Path | None:
    """The first CJK font this machine has, or None."""
    return next((Path(p) for p in CJK_FONTS if Path(p).exists()), None)


def _titles(language: str) -> tuple[str, str, bool]:
    """The axes' titles in ``language`` and whether they need the CJK font (English when the
    language needs one this machine lacks)."""
    cjk = language in CJK
    if cjk and cjk_font() is None:
        language, cjk = SOURCE, False
    return (localize(_("Day of the challenge"), language), localize(_("People who journaled"), language), cjk)


def png(bars: Bars, language: str = SOURCE) -> bytes:
    """The chart as PNG bytes: bars per day, the y axis in people, the x axis in days; the
    axes' titles in ``language``."""
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), "white")
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    _y_axis(draw, bars.out_of, x0, y0, x1, y1)
    step = (x1 - x0) / len(bars.values)
    every = max(1, round(len(bars.values) / 10))  # at most about ten day numbers under the bars
    for i, value in enumerate(bars.values):
        left = x0 + i * step + step * 0.15
        right = x0 + (i + 1) * step - step * 0.15
        top = y1 - (y1 - y0) * value / bars.out_of
        if value:
            colour = TODAY if i == len(bars.values) - 1 else BAR
            draw.rectangle(_px(left, top, right, y1), fill=colour)
        if len(bars.values) <= 15:  # room to write each day's number over its bar
            _text(draw, ((left + right) / 2, top - 2), str(value), 12, INK, "md")
        last = len(bars.values) - 1
        if i == last or (i % every == 0 and (every == 1 or last - i >= every)):
            _text(draw, ((left + right) / 2, y1 + 4), _day_number(bars.labels[i]), 12, MUTED, "ma")
    draw.line(_px(x0, y1, x1, y1), fill=INK, width=SCALE)
    x_title, y_title, cjk = _titles(language)
    _text(draw, ((x0 + x1) / 2, HEIGHT - 3), x_title, 13, INK, "md", cjk)
    _y_title(image, y_title, (y0 + y1) / 2, cjk)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _y_axis(draw: ImageDraw.ImageDraw, top: int, x0: float, y0: float, x1: float, y1: float) -> None:
    """Gridlines at a few whole numbers of people, labelled on the left."""
    for tick in _ticks(top):
        y = y1 - (y1 - y0) * tick / top
        if tick:
            draw.line(_px(x0, y, x1, y), fill=GRID, width=SCALE)
        _text(draw, (x0 - 5, y), str(tick), 12, MUTED, "rm")


def _ticks(top: int) -> list[int]:
    """Round numbers of people from 0 (at most six lines), and the top when it is not too
    close to the last of them."""
    step = next(n * 10 ** p for p in range(7) for n in (1, 2, 5) if n * 10 ** p >= top / 5)
    ticks = list(range(0, top + 1, step))
    return ticks + [top] if top - ticks[-1] >= step / 2 else ticks


def _y_title(image: Image.Image, title: str, middle: float, cjk: bool = False) -> None:
    """The y axis's title, written upwards beside the axis."""
    font = _font(13, cjk)
    left, top, right, bottom = font.getbbox(title)
    label = Image.new("RGBA", (right - left + 4, bottom - top + 4), (255, 255, 255, 0))
    ImageDraw.Draw(label).text((2 - left, 2 - top), title, font=font, fill=INK)
    turned = label.rotate(90, expand=True)
    image.paste(turned, (2 * SCALE, int(middle * SCALE - turned.height / 2)), turned)


def _text(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, size: int, fill: str, anchor: str,
          cjk: bool = False) -> None:
    draw.text((at[0] * SCALE, at[1] * SCALE), text, font=_font(size, cjk), fill=fill, anchor=anchor)


def _px(*points: float) -> tuple[int, ...]:
    return tuple(round(p * SCALE) for p in points)


def _day_number(label: str) -> str:
    found = re.search(r"\d+", label)
    return found.group(0) if found else label.strip()


def day_label(label: str) -> str:
    """A bar's label as the recipient says it: "Day 3", "Tag 3", "3日目" (the flow gives "Day 3")."""
    found = re.fullmatch(r"\D*?(\d+)\D*", label)
    return _("Day %(n)s", n=int(found.group(1))) if found else label


def _in_sentence(label: str) -> str:
    """A bar's label inside a sentence: "day 3", "Tag 3", "3日目"."""
    found = re.fullmatch(r"\D*?(\d+)\D*", label)
    return _("day %(n)s", n=int(found.group(1))) if found else label


def alt_text(bars: Bars, title: str) -> str:
    """The chart in words: what it shows, then each day's number."""
    days = Joined("; ", (_("%(day)s: %(value)s", day=_in_sentence(label), value=value)
                         for label, value in zip(bars.labels, bars.values)))
    return ngettext("Bar chart of %(title)s: how many of the %(num)s participant journaled on each day, "
                    "%(first)s to %(last)s. %(days)s.",
                    "Bar chart of %(title)s: how many of the %(num)s participants journaled on each day, "
                    "%(first)s to %(last)s. %(days)s.", bars.out_of, title=title,
                    first=day_label(bars.labels[0]), last=day_label(bars.labels[-1]), days=days)


class OneDecimal(Localized):
    """A number with one decimal, as the language writes it: "4.0", "4,0"."""

    __slots__ = ("value",)

    def __new__(cls, value: float) -> "OneDecimal":
        made = super().__new__(cls, f"{value:.1f}")
        made.value = value
        return made

    def localize(self, language: str) -> str:
        return str.__str__(self) if language == SOURCE else format_decimal(self.value, "0.0", locale=language)

    def __reduce__(self) -> tuple:
        return OneDecimal, (self.value,)


def key_numbers(bars: Bars) -> list[str]:
    """The few numbers a sponsor reads beside the chart."""
    total, n = bars.out_of, len(bars.values)
    best = max(range(n), key=lambda i: (bars.values[i], -i))
    average = sum(bars.values) / n
    return [_("%(value)s of %(total)s journaled on %(day)s", value=bars.values[-1], total=total,
              day=day_label(bars.labels[-1])),
            _("%(average)s a day on average (%(share)s%% of participants)", average=OneDecimal(average),
              share=round(100 * average / total)),
            _("Busiest: %(day)s, %(value)s of %(total)s", day=day_label(bars.labels[best]), value=bars.values[best],
              total=total)]
