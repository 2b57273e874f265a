from __future__ import annotations

from pressroom.plugins import (
    ArtifactDraft, EmbedTexts, GenerateText, RunContext, UseCase, UseCaseRun, complete_sentences, fit_disclaimers,
)
from pressroom_recommendation.grounding import named_items, unknown_names
from pressroom_recommendation.ranking import rank
from pressroom_recommendation.schema import RecommendationInput

MESSAGE = ("Write a short, friendly message to {customer} recommending these products: {items}. "
           "Mention each product by its exact name in double quotes. Do not mention any other product.\n"
           "Reply with the message only: a greeting, then one to three complete sentences on why these suit them.")
# Sampled (a greedy small model loops), within a budget (a greeting line comes first, so a
# blank line does not end it).
TEMPERATURE, TOP_P, MESSAGE_TOKENS = 0.7, 0.95, 80
SYSTEM = "You write personalised shopping recommendations. {voice}"


def message_text(output) -> str:
    """The model's message; one cut off by its budget keeps its whole sentences."""
    text = output.text.strip()
    if output.params.get("finish_reason") == "length":
        return complete_sentences(text) or text
    return text


class PersonalisedRecommendations(UseCase):
    key = "recommendation.personalised"
    title = "Personalised recommendations"
    description = "Ranks catalog items per customer and writes a message naming them; rankings as structured data."
    modality = "embedding"
    Input = RecommendationInput
    expected_steps = 3
    long_text_fields = ("catalog_csv",)

    def run(self, data: RecommendationInput, ctx: RunContext) -> UseCaseRun:
        catalog = data.catalog or []
        embedded = yield EmbedTexts(texts=tuple(f"{p.name}. {p.category}. {p.description}".strip(". ") for p in catalog))
        vectors = {p.id: v for p, v in zip(catalog, embedded.vectors)}
        settings = ctx.settings
        rankings = rank(catalog, data.customers, vectors, top_k=data.top_k,
                        similarity_weight=float(settings.get("similarity_weight", 0.8)),
                        popularity_weight=float(settings.get("popularity_weight", 0.2)),
                        half_life_days=float(settings.get("recency_half_life_days", 30.0)))
        template = ctx.prompt_template(self.key, MESSAGE)
        system = ctx.prompt_template(f"{self.key}.system", SYSTEM)
        prompts = tuple(
            template.render(customer=c.name or "our customer", items=", ".join(f'"{r.name}"' for r in rankings[c.id]))
            for c in data.customers
        )
        outputs = yield self._request(prompts, system.render(), tuple(ctx.base_seed + i for i in range(len(prompts))))
        names = {p.name for p in catalog}
        problems = [self._problems(out, rankings[c.id], names, ctx) for out, c in zip(outputs, data.customers)]
        retry = [i for i, found in enumerate(problems) if found]
        outputs = list(outputs)
        if retry:
            # A message that names something outside the catalog, none of the customer's
            # items, or that the quality stage would flag is written again, once; the
            # version with fewer problems is kept.
            again = yield self._request(tuple(prompts[i] + " Only these products exist." for i in retry), system.render(),
                                        tuple(ctx.base_seed + 1000 + i for i in retry))
            for i, out in zip(retry, again):
                if len(self._problems(out, rankings[data.customers[i].id], names, ctx)) < len(problems[i]):
                    outputs[i] = out
        return [self._draft(i, customer, rankings[customer.id], outputs[i], names, template, i in retry,
                            ctx.required_disclaimers)
                for i, customer in enumerate(data.customers)]

    @staticmethod
    def _request(prompts: tuple[str, ...], system: str, seeds: tuple[int, ...]) -> GenerateText:
        return GenerateText(prompts=prompts, system_prompt=system, max_new_tokens=MESSAGE_TOKENS,
                            temperature=TEMPERATURE, top_p=TOP_P, seeds=seeds, stop=("\n\n\n",))

    @staticmethod
    def _problems(output, ranking, names: set[str], ctx: RunContext) -> list[str]:
        text = message_text(output)
        chosen = {r.name.casefold() for r in ranking}
        named = {name.casefold() for _, _, name in named_items(text)}
        found = [f"unknown product {name}" for name in unknown_names(text, names)]
        if not named & chosen:
            found.append("names none of the recommended items")
        return found + ctx.quality_review(text)

    @staticmethod
    def _draft(index, customer, ranking, output, names, template, regenerated, disclaimers=()) -> ArtifactDraft:
        text = message_text(output)
        chosen = {r.name.casefold() for r in ranking}
        # Still naming none of the customer's items after its second try: the ranking is
        # the point of the message, so one plain sentence naming them is written in.
        items_added = not {name.casefold() for _, _, name in named_items(text)} & chosen
        if items_added:
            text = f"{text} You might like {' and '.join(f'“{r.name}”' for r in ranking[:2])}.".strip()
        mentioned = [name for _, _, name in named_items(text)]
        # A message has no character limit: the workspace's disclaimers follow it whole.
        message = fit_disclaimers(text, disclaimers)
        added = {"disclaimers_added": message.added} if message.added else {}
        return ArtifactDraft(
            kind="text", variant_index=index, text=message.text, seed=output.seed, provenance=output.provenance,
            params={**output.params, **template.provenance, **added},
            data={**added,
                "customer_id": customer.id,
                "recommendations": [r.as_dict() for r in ranking],
                "named_items": mentioned,
                "unknown_items": unknown_names(text, names),
                "missing_items": [r.name for r in ranking if r.name.casefold() not in {m.casefold() for m in mentioned}],
                "regenerated": regenerated,
                "items_added": items_added,
                "all_named_items_recommended": all(m.casefold() in chosen for m in mentioned),
            },
        )
