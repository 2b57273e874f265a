from __future__ import annotations

from pydantic import Field

from pressroom.plugins import ArtifactDraft, PromptTemplate, RunContext, UseCaseInput
from pressroom_marketing.text import Field as TextField
from pressroom_marketing.text import field_report

SYSTEM_DEFAULT = "You are a senior marketing copywriter. {voice}"


class MarketingInput(UseCaseInput):
    variants: int = Field(default=2, ge=1, le=4, description="Alternatives to write.")
    seed: int | None = Field(default=None, ge=0, lt=2**31)


def system_prompt(ctx: RunContext, key: str) -> PromptTemplate:
    return ctx.prompt_template(f"{key}.system", SYSTEM_DEFAULT)


def base_seed(data: MarketingInput, ctx: RunContext) -> int:
    return ctx.base_seed if data.seed is None else data.seed


def temperature(ctx: RunContext) -> float:
    return float(ctx.settings.get("temperature", 0.8))


def phrase_temperature(ctx: RunContext) -> float:
    """Headlines, calls to action and subject lines: a few words, where a 135M model's
    unlikely tokens read as nonsense rather than as variety."""
    return float(ctx.settings.get("phrase_temperature", 0.6))


def writing_settings(ctx: RunContext, system: PromptTemplate) -> dict:
    """write_fields' settings from the plugin's: system prompt, temperature, and the
    quality stage with its regeneration budget."""
    return {"system_prompt": system.render(), "temperature": temperature(ctx), "review": ctx.quality_review,
            "regenerations": int(ctx.settings.get("quality_regenerations", 2))}


def draft_from_fields(index: int, fields: list[TextField], text: str, template: PromptTemplate, extra: dict) -> ArtifactDraft:
    first = fields[0].outputs[-1]
    report = field_report(fields)
    disclaimers = {key: report[key] for key in ("disclaimers_added", "shortened_for_disclaimers") if key in report}
    return ArtifactDraft(
        kind="text",
        variant_index=index,
        text=text,
        seed=first.seed,
        params={**first.params, **template.provenance, "fields": {f.name: f.prompt for f in fields}, **disclaimers},
        provenance=first.provenance,
        data={**extra, **{f.name: f.value for f in fields}, **report},
    )
