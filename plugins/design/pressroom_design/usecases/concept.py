from __future__ import annotations

import io

from PIL import Image

from pressroom.plugins import ArtifactDraft, GenerateImages, RunContext, UseCase, UseCaseRun
from pressroom_design.prompts import PRESETS, VisualInput, build_prompt, generation_size


def resize_png(png: bytes, size: tuple[int, int]) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.size != size:
        image = image.resize(size, Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def generate_visuals(data: VisualInput, ctx: RunContext, *, background: bool):
    """Sub-generator: the images for every variant in one request."""
    prompt, negative = build_prompt(data, background=background)
    width, height = generation_size(data.preset, int(ctx.settings.get("max_generation_side", 512)))
    base = ctx.base_seed if data.seed is None else data.seed
    outputs = yield GenerateImages(
        prompts=(prompt,) * data.variants, seeds=tuple(base + i for i in range(data.variants)),
        negative_prompt=negative, width=width, height=height,
        steps=data.steps or int(ctx.settings.get("steps", 20)), guidance_scale=float(ctx.settings.get("guidance_scale", 7.5)),
    )
    return outputs


class ConceptImage(UseCase):
    key = "design.concept_image"
    title = "Product concept images"
    description = "Concept images of a product in a style and the brand palette, sized for a channel."
    modality = "image"
    output_kinds = ("image",)
    Input = VisualInput

    def run(self, data: VisualInput, ctx: RunContext) -> UseCaseRun:
        outputs = yield from generate_visuals(data, ctx, background=False)
        size = PRESETS[data.preset]
        return [
            ArtifactDraft(kind="image", variant_index=i, png=resize_png(out.png, size), seed=out.seed,
                          params={**out.params, "preset": data.preset, "final_size": list(size)},
                          provenance=out.provenance, data={"preset": data.preset, "size": list(size), "palette": data.palette})
            for i, out in enumerate(outputs)
        ]
