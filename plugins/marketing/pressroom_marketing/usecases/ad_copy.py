from __future__ import annotations

from typing import Literal

from pydantic import Field

from pressroom.plugins import RunContext, UseCase, UseCaseRun
from pressroom_marketing import examples
from pressroom_marketing.text import Field as TextField
from pressroom_marketing.text import add_disclaimers, write_fields
from pressroom_marketing.usecases.common import (
    MarketingInput,
    base_seed,
    draft_from_fields,
    phrase_temperature,
    system_prompt,
    writing_settings,
)

# Character limits per channel (search ads follow the common 30/90 headline/description rule).
CHANNEL_LIMITS = {
    "search": {"headline": 30, "body": 90, "cta": 15},
    "social": {"headline": 40, "body": 125, "cta": 20},
    "display": {"headline": 25, "body": 90, "cta": 15},
}
Channel = Literal["search", "social", "display"]

# Each prompt says the answer's form and asks for the answer alone. Example answers inside
# the prompt were tried and dropped: the 135M model copied them, words and topic
# ("Grip Every Trail"; coffee "beans" in a shoe ad), and copied "Shop now | Find your size"
# as one call to action; the worked examples are earlier chat turns instead (examples.py).
# The brief comes first and is worded the same for every field, so the engine evaluates
# identical prompts once per job.
BRIEF = "Product: {product}. {offer}Details: {description}\n"
PROMPTS = {
    "headline": BRIEF + (
        "Write one ad headline for it: three to six words, no quotes, no greeting.\n"
        "Reply with the headline only, at most {limit} characters."
    ),
    "body": BRIEF + (
        "Write one short ad text for it: one sentence on what it does for the reader.\n"
        "Reply with one sentence only, at most {limit} characters, using only these facts."
    ),
    "cta": BRIEF + (
        "Write a call to action for an ad for it: two to four words that say what to do next.\n"
        "Reply with the call to action only, at most {limit} characters."
    ),
}


class AdCopyInput(MarketingInput):
    product: str = Field(min_length=1, max_length=200, examples=["TrailRunner X2 trail shoes"])
    description: str = Field(default="", max_length=1000, examples=["Grippy lugged sole, waterproof upper, 280 g."])
    offer: str = Field(default="", max_length=200, description="e.g. '20% off until Sunday'")
    channels: list[Channel] = Field(min_length=1, max_length=3, description="search, social, display")


class AdCopy(UseCase):
    key = "marketing.ad_copy"
    title = "Ad copy"
    description = "Headline, body and call to action per channel, within each channel's character limits."
    modality = "text"
    Input = AdCopyInput
    expected_steps = 3

    def run(self, data: AdCopyInput, ctx: RunContext) -> UseCaseRun:
        system = system_prompt(ctx, self.key)
        values = {"product": data.product, "description": data.description or data.product,
                  "offer": f"Offer: {data.offer}. " if data.offer else ""}
        jobs = []
        for channel in dict.fromkeys(data.channels):
            for variant in range(data.variants):
                template = {name: ctx.prompt_template(f"{self.key}.{name}", body) for name, body in PROMPTS.items()}
                fields = [TextField(name, template[name].render(**values, limit=limit), limit,
                                    temperature=None if name == "body" else phrase_temperature(ctx),
                                    examples=examples.examples_for(ctx, f"{self.key}.examples.{channel}.{name}",
                                                                   examples.AD_COPY[channel][name], template[name],
                                                                   offer="", limit=str(limit)))
                          for name, limit in CHANNEL_LIMITS[channel].items()]
                jobs.append((channel, variant, fields))
        everything = [f for _, _, fields in jobs for f in fields]
        yield from write_fields(everything, seed=base_seed(data, ctx), max_new_tokens=64, **writing_settings(ctx, system))
        add_disclaimers(everything, "body", ctx.required_disclaimers)  # the copy a reader sees under the headline
        return [
            draft_from_fields(
                index, fields,
                f"Headline: {fields[0].value}\nBody: {fields[1].value}\nCTA: {fields[2].value}",
                system, {"channel": channel, "variant": variant},
            )
            for index, (channel, variant, fields) in enumerate(jobs)
        ]
