"""Prompt building, colours and size presets."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from pressroom.plugins import UseCaseInput

Style = Literal["photo", "studio product shot", "illustration", "3d render", "flat vector", "watercolour"]

# Channel presets (final pixel size). Generation runs at a multiple of 8 no larger than
# the plugin's max_generation_side, then is resized to the preset.
PRESETS = {
    "preview": (128, 128),
    "instagram_post": (1080, 1080),
    "instagram_story": (1080, 1920),
    "facebook_link": (1200, 628),
    "leaderboard": (728, 90),
    "medium_rectangle": (300, 250),
    "wide_skyscraper": (160, 600),
}
Preset = Literal["preview", "instagram_post", "instagram_story", "facebook_link", "leaderboard", "medium_rectangle", "wide_skyscraper"]
HEX = re.compile(r"^#?[0-9a-fA-F]{6}$")


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def colour_name(rgb: tuple[int, int, int]) -> str:
    """A plain word for a colour, for the prompt (models do not read hex codes)."""
    names = {"black": (0, 0, 0), "white": (255, 255, 255), "red": (200, 30, 40), "orange": (240, 140, 30),
             "yellow": (240, 220, 50), "green": (40, 160, 70), "teal": (20, 150, 150), "blue": (40, 80, 200),
             "navy": (20, 30, 90), "purple": (120, 50, 160), "pink": (240, 130, 180), "brown": (120, 80, 40),
             "grey": (128, 128, 128), "beige": (225, 210, 180)}
    return min(names, key=lambda n: sum((a - b) ** 2 for a, b in zip(names[n], rgb)))


def generation_size(preset: str, max_side: int) -> tuple[int, int]:
    width, height = PRESETS[preset]
    scale = min(1.0, max_side / max(width, height))
    return tuple(max(64, int(side * scale) // 8 * 8) for side in (width, height))  # type: ignore[return-value]


class VisualInput(UseCaseInput):
    product: str = Field(min_length=1, max_length=200, examples=["TrailRunner X2 trail shoes"])
    description: str = Field(default="", max_length=500)
    style: Style = "studio product shot"
    palette: list[str] = Field(default_factory=lambda: ["#1F3A5F", "#F2C14E"], min_length=1, max_length=5,
                               description="Brand colours as hex codes, e.g. #1F3A5F")
    preset: Preset = "preview"
    variants: int = Field(default=1, ge=1, le=4)
    steps: int | None = Field(default=None, ge=1, le=100)
    seed: int | None = Field(default=None, ge=0, lt=2**31)

    @field_validator("palette")
    @classmethod
    def _hex_colours(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not HEX.match(v)]
        if bad:
            raise ValueError(f"not a hex colour: {', '.join(bad)} (use #RRGGBB)")
        return ["#" + v.lstrip("#").upper() for v in values]


def build_prompt(data: VisualInput, *, background: bool = False) -> tuple[str, str]:
    colours = ", ".join(dict.fromkeys(colour_name(hex_to_rgb(c)) for c in data.palette))
    subject = f"background for an advert about {data.product}, empty space, no text" if background else data.product
    parts = [f"{data.style} of {subject}", data.description, f"colour palette: {colours}", "clean composition, high quality"]
    negative = "text, watermark, logo, blurry, low quality, distorted"
    return ", ".join(p for p in parts if p), negative
