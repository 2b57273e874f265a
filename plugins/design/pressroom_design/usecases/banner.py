from __future__ import annotations

from pydantic import Field

from pressroom.plugins import ArtifactDraft, RunContext, UseCase, UseCaseRun, fit_disclaimers
from pressroom_design.compose import compose_banner, fit_fine_print
from pressroom_design.prompts import PRESETS, Preset, VisualInput, hex_to_rgb
from pressroom_design.usecases.concept import generate_visuals


class BannerInput(VisualInput):
    headline: str = Field(min_length=1, max_length=80)
    cta: str = Field(min_length=1, max_length=24, title="CTA", description="Call to action, e.g. 'Shop now'")
    preset: Preset = "medium_rectangle"


def fine_print_for(data: BannerInput, disclaimers: tuple[str, ...]) -> list[str]:
    """The required disclaimers the headline and CTA do not already say: the fine print."""
    return fit_disclaimers(f"{data.headline}\n{data.cta}", disclaimers).added


def typeset_text(data: BannerInput, fine_print: str) -> str:
    """The copy on the banner, one block per line, as screening reads it."""
    return "\n".join(part for part in (data.headline, data.cta, fine_print) if part)


class Banner(UseCase):
    key = "design.banner"
    title = "Ad banners"
    description = "A generated background with the headline, call to action and any required fine print typeset in the brand colours."
    modality = "image"
    output_kinds = ("image",)
    Input = BannerInput

    def run(self, data: BannerInput, ctx: RunContext) -> UseCaseRun:
        size = PRESETS[data.preset]
        added = fine_print_for(data, ctx.required_disclaimers)
        fine_print = " ".join(added)
        fit_fine_print(size, fine_print)  # a disclaimer that cannot fit fails the job before any model time
        outputs = yield from generate_visuals(data, ctx, background=True)
        palette = [hex_to_rgb(c) for c in data.palette]
        disclaimers = {"disclaimers_added": added} if added else {}
        drafts = []
        for i, out in enumerate(outputs):
            png, layout = compose_banner(out.png, size, data.headline, data.cta, palette, fine_print)
            drafts.append(ArtifactDraft(
                kind="image", variant_index=i, png=png, seed=out.seed, provenance=out.provenance,
                text=typeset_text(data, fine_print),
                params={**out.params, "preset": data.preset, "final_size": list(size), "layout": layout, **disclaimers},
                data={"preset": data.preset, "size": list(size), "headline": data.headline, "cta": data.cta,
                      "palette": data.palette, **layout, **disclaimers},
            ))
        return drafts
