from __future__ import annotations

from pydantic import Field

from pressroom.plugins import ArtifactDraft, RunContext, UseCase, UseCaseRun
from pressroom_design.compose import compose_banner
from pressroom_design.prompts import PRESETS, Preset, VisualInput, hex_to_rgb
from pressroom_design.usecases.concept import generate_visuals


class BannerInput(VisualInput):
    headline: str = Field(min_length=1, max_length=80)
    cta: str = Field(min_length=1, max_length=24, title="CTA", description="Call to action, e.g. 'Shop now'")
    preset: Preset = "medium_rectangle"


class Banner(UseCase):
    key = "design.banner"
    title = "Ad banners"
    description = "A generated background with the headline and call to action typeset in the brand colours."
    modality = "image"
    output_kinds = ("image",)
    Input = BannerInput

    def run(self, data: BannerInput, ctx: RunContext) -> UseCaseRun:
        outputs = yield from generate_visuals(data, ctx, background=True)
        size = PRESETS[data.preset]
        palette = [hex_to_rgb(c) for c in data.palette]
        drafts = []
        for i, out in enumerate(outputs):
            png, layout = compose_banner(out.png, size, data.headline, data.cta, palette)
            drafts.append(ArtifactDraft(
                kind="image", variant_index=i, png=png, seed=out.seed, provenance=out.provenance,
                params={**out.params, "preset": data.preset, "final_size": list(size), "layout": layout},
                data={"preset": data.preset, "size": list(size), "headline": data.headline, "cta": data.cta,
                      "palette": data.palette, **layout},
            ))
        return drafts
