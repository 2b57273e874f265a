from __future__ import annotations

from pressroom.plugins import ArtifactDraft, EmbedTexts, GenerateText, RunContext, UseCase, UseCaseRun, fit_disclaimers
from pressroom_recommendation.grounding import named_items, unknown_names
from pressroom_recommendation.ranking import rank
from pressroom_recommendation.schema import RecommendationInput

MESSAGE = ("Write a short, friendly message to {customer} recommending these products: {items}. "
           "Mention each product by its exact name in double quotes. Do not mention any other product.")
SYSTEM = "You write personalised shopping recommendations. {voice}"


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
        outputs = yield GenerateText(prompts=prompts, system_prompt=system.render(), max_new_tokens=120)
        names = {p.name for p in catalog}
        retry = [i for i, out in enumerate(outputs) if unknown_names(out.text, names)]
        outputs = list(outputs)
        if retry:
            # A message that names something outside the catalog is written again, once.
            again = yield GenerateText(
                prompts=tuple(prompts[i] + " Only these products exist." for i in retry), system_prompt=system.render(),
                max_new_tokens=120, temperature=0.7, seeds=tuple(ctx.base_seed + i for i in retry),
            )
            for i, out in zip(retry, again):
                outputs[i] = out
        return [self._draft(i, customer, rankings[customer.id], outputs[i], names, template, i in retry,
                            ctx.required_disclaimers)
                for i, customer in enumerate(data.customers)]

    @staticmethod
    def _draft(index, customer, ranking, output, names, template, regenerated, disclaimers=()) -> ArtifactDraft:
        chosen = {r.name.casefold() for r in ranking}
        mentioned = [name for _, _, name in named_items(output.text)]
        # A message has no character limit: the workspace's disclaimers follow it whole.
        message = fit_disclaimers(output.text, disclaimers)
        added = {"disclaimers_added": message.added} if message.added else {}
        return ArtifactDraft(
            kind="text", variant_index=index, text=message.text, seed=output.seed, provenance=output.provenance,
            params={**output.params, **template.provenance, **added},
            data={**added,
                "customer_id": customer.id,
                "recommendations": [r.as_dict() for r in ranking],
                "named_items": mentioned,
                "unknown_items": unknown_names(output.text, names),
                "missing_items": [r.name for r in ranking if r.name.casefold() not in {m.casefold() for m in mentioned}],
                "regenerated": regenerated,
                "all_named_items_recommended": all(m.casefold() in chosen for m in mentioned),
            },
        )
