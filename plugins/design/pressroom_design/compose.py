"""Typeset a headline, a call to action and any required fine print over a background,
in the brand colours."""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from importlib.resources import files

from PIL import Image, ImageDraw, ImageFont, ImageStat

from pressroom.plugins import DisclaimerTooLong

FONT_FILE = files("pressroom_design") / "fonts" / "DejaVuSans-Bold.ttf"
FONT_NAME = "DejaVu Sans Bold"
LINE_HEIGHT = 1.2
# Fine print (the workspace's required disclaimers) is legal copy: never smaller than this,
# two lines at most where the banner is wide enough, and its band leaves the headline the
# rest of the banner.
FINE_PRINT_MIN_SIZE = 8
FINE_PRINT_MAX_LINES = 2
FINE_PRINT_MAX_SHARE = 0.3
WHITE, BLACK = (255, 255, 255), (0, 0, 0)

Box = tuple[int, int, int, int]


class FinePrintTooLong(DisclaimerTooLong):
    """The required disclaimers cannot be typeset legibly on a banner of this size."""


@dataclass(frozen=True)
class FinePrint:
    """The fine print's font and lines, and the height of the band along the bottom that holds it."""

    text: str = ""
    size: int = 0
    lines: list[str] = field(default_factory=list)
    band_height: int = 0
    # More than two lines: the fallback for a banner too narrow for two (recorded in the layout).
    fallback: bool = False


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size)


def _luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str] | None:
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            current = trial
        else:
            if not current or draw.textlength(word, font=font) > width:
                return None
            lines.append(current)
            current = word
    lines.append(current)
    return lines if len(lines) <= max_lines else None


def _fit(draw, text: str, width: int, height: int, max_lines: int):
    """The largest font size at which the text wraps into the box."""
    for size in range(max(8, height), 7, -1):
        font = _font(size)
        lines = _wrap(draw, text, font, width, max_lines)
        if lines and len(lines) * size * LINE_HEIGHT <= height:
            return font, lines
    return _font(8), [text]


def _padding(size: tuple[int, int]) -> int:
    return max(4, min(size) // 16)


def _band_height(font_size: int, lines: int) -> int:
    return round(lines * font_size * LINE_HEIGHT + 2 * max(2, font_size // 3))


def _fine_print_at(draw, text: str, font_size: int, room: int, max_lines: int, max_band: float) -> FinePrint | None:
    lines = _wrap(draw, text, _font(font_size), room, max_lines)
    if lines and _band_height(font_size, len(lines)) <= max_band:
        return FinePrint(text, font_size, lines, _band_height(font_size, len(lines)))
    return None


def fit_fine_print(size: tuple[int, int], text: str) -> FinePrint:
    """The largest legible fine print for a banner of `size`: the largest size at which it
    takes at most two lines; failing that (a narrow banner), more lines at the minimum size
    while the band keeps within its share of the height, marked as a fallback. Raises
    FinePrintTooLong rather than shrink it below the minimum, drop words or crowd out the
    headline: a banner without its disclaimer must not ship, and the use case calls this
    before any image is generated."""
    text = " ".join(text.split())
    if not text:
        return FinePrint()
    width, height = size
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    room, max_band = width - 2 * _padding(size), height * FINE_PRINT_MAX_SHARE
    preferred = max(FINE_PRINT_MIN_SIZE, min(size) // 32)  # fine print, not a second headline
    for font_size in range(preferred, FINE_PRINT_MIN_SIZE - 1, -1):
        if fitted := _fine_print_at(draw, text, font_size, room, FINE_PRINT_MAX_LINES, max_band):
            return fitted
    if fitted := _fine_print_at(draw, text, FINE_PRINT_MIN_SIZE, room, len(text.split()), max_band):
        return replace(fitted, fallback=True)
    raise FinePrintTooLong(
        f"The required disclaimer text {text!r} ({len(text)} characters) does not fit legibly on a {width}×{height} "
        f"banner (at least {FINE_PRINT_MIN_SIZE} px, in at most {int(FINE_PRINT_MAX_SHARE * 100)}% of its height); "
        f"choose a larger preset or shorten the disclaimer in the workspace's safety policy."
    )


def _boxes(width: int, height: int, pad: int, landscape: bool) -> tuple[Box, Box]:
    """The headline panel and the CTA button within the area above the fine print."""
    if landscape:
        return ((pad, pad, int(width * 0.68), height - pad),
                (int(width * 0.72), height // 2 - height // 4, width - pad, height // 2 + height // 4))
    return ((pad, pad, width - pad, int(height * 0.62)),
            (width // 6, int(height * 0.72), width - width // 6, int(height * 0.86)))


def _draw_fine_print(draw: ImageDraw.ImageDraw, fine_print: FinePrint, size: tuple[int, int], palette) -> dict:
    """A solid band in the darkest brand colour, the text in the colour that reads best on
    it: black or white are candidates too, so the contrast is always at least 4.5:1."""
    width, height = size
    band: Box = (0, height - fine_print.band_height, width, height)
    colour = min(palette, key=_luminance)
    text_colour = max([*palette, WHITE, BLACK], key=lambda c: contrast(c, colour))
    draw.rectangle(band, fill=(*colour, 255))
    font = _font(fine_print.size)
    y = band[1] + (fine_print.band_height - len(fine_print.lines) * fine_print.size * LINE_HEIGHT) / 2
    for line in fine_print.lines:
        draw.text(((width - draw.textlength(line, font=font)) / 2, y), line, font=font, fill=text_colour)
        y += fine_print.size * LINE_HEIGHT
    return {"fine_print": fine_print.text, "fine_print_font_size": fine_print.size, "fine_print_lines": fine_print.lines,
            "fine_print_colour": text_colour, "fine_print_contrast": round(contrast(text_colour, colour), 2), "fine_print_box": list(band),
            "fine_print_fallback": fine_print.fallback}


def compose_banner(background_png: bytes, size: tuple[int, int], headline: str, cta: str,
                   palette: list[tuple[int, int, int]], fine_print: str = "") -> tuple[bytes, dict]:
    """The banner as PNG, and its layout. `fine_print` (the required disclaimers) goes in a
    band along the bottom, the headline and CTA above it; FinePrintTooLong if it cannot be
    typeset legibly (see fit_fine_print)."""
    width, height = size
    fitted = fit_fine_print(size, fine_print)
    image = Image.open(io.BytesIO(background_png)).convert("RGB").resize(size, Image.LANCZOS)
    draw = ImageDraw.Draw(image, "RGBA")
    landscape = width >= height * 1.5
    pad = _padding(size)
    text_box, cta_box = _boxes(width, height - fitted.band_height, pad, landscape)
    # A translucent panel in the darkest brand colour keeps the headline legible on any background.
    panel = min(palette, key=_luminance)
    draw.rounded_rectangle(text_box, radius=pad // 2, fill=(*panel, 190))
    panel_colour = tuple(int(v) for v in ImageStat.Stat(image.crop(text_box)).mean)
    text_colour = max(palette + [WHITE], key=lambda c: contrast(c, panel_colour))
    inner = (text_box[2] - text_box[0] - pad, text_box[3] - text_box[1] - pad)
    font, lines = _fit(draw, headline, inner[0], inner[1], max_lines=2 if landscape else 3)
    y = text_box[1] + (text_box[3] - text_box[1] - len(lines) * font.size * LINE_HEIGHT) / 2
    for line in lines:
        draw.text((text_box[0] + pad / 2, y), line, font=font, fill=text_colour)
        y += font.size * LINE_HEIGHT
    button = max(palette, key=lambda c: contrast(c, panel))
    button_text = max([WHITE, BLACK, *palette], key=lambda c: contrast(c, button))
    draw.rounded_rectangle(cta_box, radius=(cta_box[3] - cta_box[1]) // 3, fill=(*button, 255))
    cta_font, cta_lines = _fit(draw, cta, cta_box[2] - cta_box[0] - pad, int((cta_box[3] - cta_box[1]) * 0.7), max_lines=1)
    text_width = draw.textlength(cta_lines[0], font=cta_font)
    draw.text(((cta_box[0] + cta_box[2] - text_width) / 2, (cta_box[1] + cta_box[3] - cta_font.size * 1.15) / 2),
              cta_lines[0], font=cta_font, fill=button_text)
    # Drawn last: nothing (not even a headline that overflows its box) covers the legal copy.
    fine_print_layout = _draw_fine_print(draw, fitted, size, palette) if fitted.text else {}
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    layout = {"font": FONT_NAME, "headline_font_size": font.size, "headline_lines": lines, "text_colour": text_colour,
              "button_colour": button, "headline_contrast": round(contrast(text_colour, panel_colour), 2),
              "headline_box": list(text_box), "cta_box": list(cta_box), **fine_print_layout}
    return buffer.getvalue(), layout
