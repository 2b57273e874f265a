from __future__ import annotations

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

SUBJECT_LIMIT, PREVIEW_LIMIT = 60, 90
# The campaign first, worded the same for both fields: one shared prompt prefix per job.
BRIEF = "Campaign: {campaign}. {audience}\n"
PROMPTS = {
    "subject": BRIEF + (
        "Write one e-mail subject line for it: five to eight words, no greeting.\n"
        "Reply with the subject line only, at most {limit} characters."
    ),
    "preview": BRIEF + (
        "Write the preview text of the e-mail: one sentence that follows the subject line, no greeting.\n"
        "Reply with one sentence only, at most {limit} characters, using only these facts."
    ),
}


class EmailSubjectInput(MarketingInput):
    campaign: str = Field(min_length=1, max_length=500, examples=["Spring sale: 20% off outdoor footwear until Sunday"])
    audience: str = Field(default="", max_length=200, examples=["Customers who bought shoes last year"])
    variants: int = Field(default=2, ge=2, le=6, description="A/B(/C...) variants to test.")


class EmailSubject(UseCase):
    key = "marketing.email_subject"
    title = "E-mail subject lines"
    description = "A/B variants of subject line and preview text, within inbox limits."
    modality = "text"
    Input = EmailSubjectInput
    expected_steps = 3

    def run(self, data: EmailSubjectInput, ctx: RunContext) -> UseCaseRun:
        system = system_prompt(ctx, self.key)
        values = {"campaign": data.campaign, "audience": f"Audience: {data.audience}." if data.audience else ""}
        variants = []
        for variant in range(data.variants):
            templates = {name: ctx.prompt_template(f"{self.key}.{name}", body) for name, body in PROMPTS.items()}
            shots = {name: examples.examples_for(ctx, f"{self.key}.examples.{name}", examples.EMAIL[name], templates[name],
                                                 audience="", limit=str(limit))
                     for name, limit in (("subject", SUBJECT_LIMIT), ("preview", PREVIEW_LIMIT))}
            variants.append([
                TextField("subject", templates["subject"].render(**values, limit=SUBJECT_LIMIT), SUBJECT_LIMIT,
                          temperature=phrase_temperature(ctx), examples=shots["subject"]),
                TextField("preview", templates["preview"].render(**values, limit=PREVIEW_LIMIT), PREVIEW_LIMIT,
                          examples=shots["preview"]),
            ])
        everything = [f for fields in variants for f in fields]
        yield from write_fields(everything, seed=base_seed(data, ctx), max_new_tokens=48, **writing_settings(ctx, system))
        add_disclaimers(everything, "preview", ctx.required_disclaimers)  # the subject line stays a headline
        return [
            draft_from_fields(index, fields, f"Subject: {fields[0].value}\nPreview: {fields[1].value}", system,
                              {"ab_label": chr(ord("A") + index)})
            for index, fields in enumerate(variants)
        ]
