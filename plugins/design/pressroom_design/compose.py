"""Typeset a headline and a call to action over a background, in the brand colours."""
from __future__ import annotations

import io
from importlib.resources import files

from PIL import Image, ImageDraw, ImageFont, ImageStat

FONT_FILE = files("pressroom_design") / "fonts" / "DejaVuSans-Bold.ttf"
FONT_NAME = "DejaVu Sans Bold"


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
        if lines and len(lines) * size * 1.2 <= height:
            return font, lines
    return _font(8), [text]


def compose_banner(background_png: bytes, size: tuple[int, int], headline: str, cta: str,
                   palette: list[tuple[int, int, int]]) -> tuple[bytes, dict]:
    width, height = size
    image = Image.open(io.BytesIO(background_png)).convert("RGB").resize(size, Image.LANCZOS)
    draw = ImageDraw.Draw(image, "RGBA")
    landscape = width >= height * 1.5
    pad = max(4, min(width, height) // 16)
    if landscape:
        text_box = (pad, pad, int(width * 0.68), height - pad)
        cta_box = (int(width * 0.72), height // 2 - height // 4, width - pad, height // 2 + height // 4)
    else:
        text_box = (pad, pad, width - pad, int(height * 0.62))
        cta_box = (width // 6, int(height * 0.72), width - width // 6, int(height * 0.86))
    # A translucent panel in the darkest brand colour keeps the headline legible on any background.
    panel = min(palette, key=_luminance)
    draw.rounded_rectangle(text_box, radius=pad // 2, fill=(*panel, 190))
    panel_colour = tuple(int(v) for v in ImageStat.Stat(image.crop(text_box)).mean)
    text_colour = max(palette + [(255, 255, 255)], key=lambda c: contrast(c, panel_colour))
    inner = (text_box[2] - text_box[0] - pad, text_box[3] - text_box[1] - pad)
    font, lines = _fit(draw, headline, inner[0], inner[1], max_lines=2 if landscape else 3)
    y = text_box[1] + (text_box[3] - text_box[1] - len(lines) * font.size * 1.2) / 2
    for line in lines:
        draw.text((text_box[0] + pad / 2, y), line, font=font, fill=text_colour)
        y += font.size * 1.2
    button = max(palette, key=lambda c: contrast(c, panel))
    button_text = max([(255, 255, 255), (0, 0, 0), *palette], key=lambda c: contrast(c, button))
    draw.rounded_rectangle(cta_box, radius=(cta_box[3] - cta_box[1]) // 3, fill=(*button, 255))
    cta_font, cta_lines = _fit(draw, cta, cta_box[2] - cta_box[0] - pad, int((cta_box[3] - cta_box[1]) * 0.7), max_lines=1)
    text_width = draw.textlength(cta_lines[0], font=cta_font)
    draw.text(((cta_box[0] + cta_box[2] - text_width) / 2, (cta_box[1] + cta_box[3] - cta_font.size * 1.15) / 2),
              cta_lines[0], font=cta_font, fill=button_text)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    layout = {"font": FONT_NAME, "headline_font_size": font.size, "headline_lines": lines, "text_colour": text_colour,
              "button_colour": button, "headline_contrast": round(contrast(text_colour, panel_colour), 2)}
    return buffer.getvalue(), layout
