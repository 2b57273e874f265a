from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pressroom.plugins import RunContext, UseCase, UseCaseRun
from pressroom_marketing import examples
from pressroom_marketing.text import Field as TextField
from pressroom_marketing.text import add_disclaimers, write_fields
from pressroom_marketing.usecases.common import MarketingInput, base_seed, draft_from_fields, system_prompt, writing_settings

LENGTHS = {"short": 200, "medium": 500, "long": 1000}
PROMPT = (
    "Write a {length} product description for {name}. Use only these facts:\n{facts}\n"
    "Write two to four plain sentences on what it is and why it helps.\n"
    "Reply with the description only, in complete sentences, without headings, prices or other claims."
)


class ProductDescriptionInput(MarketingInput):
    name: str = Field(min_length=1, max_length=200, examples=["Trail jacket"])
    attributes: dict[str, str] = Field(min_length=1, max_length=30, description="One 'name: value' per line, e.g. material: recycled wool")
    length: Literal["short", "medium", "long"] = "short"

    @field_validator("attributes")
    @classmethod
    def _no_blank(cls, attributes: dict[str, str]) -> dict[str, str]:
        blank = [key for key, value in attributes.items() if not key.strip() or not str(value).strip()]
        if blank:
            raise ValueError(f"blank attribute(s): {', '.join(repr(b) for b in blank)}")
        return attributes


class ProductDescription(UseCase):
    key = "marketing.product_description"
    title = "Product descriptions"
    description = "A product description written from the product's attributes."
    modality = "text"
    Input = ProductDescriptionInput
    expected_steps = 3

    def run(self, data: ProductDescriptionInput, ctx: RunContext) -> UseCaseRun:
        system = system_prompt(ctx, self.key)
        template = ctx.prompt_template(self.key, PROMPT)
        facts = "\n".join(f"- {key}: {value}" for key, value in data.attributes.items())
        limit = LENGTHS[data.length]
        prompt = template.render(length=data.length, name=data.name, facts=facts)
        shots = examples.examples_for(ctx, f"{self.key}.examples", examples.PRODUCT, template, length=data.length)
        variants = [[TextField("description", prompt, limit, single_line=False, examples=shots)] for _ in range(data.variants)]
        everything = [f for fields in variants for f in fields]
        yield from write_fields(everything, seed=base_seed(data, ctx), max_new_tokens=limit // 3,
                                **writing_settings(ctx, system))
        add_disclaimers(everything, "description", ctx.required_disclaimers)
        return [
            draft_from_fields(index, fields, fields[0].value, system,
                              {"name": data.name, "attributes": data.attributes, **template.provenance})
            for index, fields in enumerate(variants)
        ]
