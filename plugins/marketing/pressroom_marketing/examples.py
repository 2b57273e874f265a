"""Default few-shot examples per use case, field and channel: one worked exchange each,
for products unlike any brief, so the model sees the answer's form (length, no greeting,
no label) rather than words to copy. Each is a versioned prompt template
(`<use case>.examples.<channel>.<field>`) a workspace can replace in the template editor;
see pressroom.plugins.few_shot for the format. Off by default (the plugin's `few_shot`
setting): on the default 135M model they measured no better and twice as slow."""
from __future__ import annotations

from pressroom.plugins import PromptTemplate, RunContext, few_shot

BOARD = "product: Oak chopping board\ndescription: Solid oak, 40 x 25 cm, oiled finish\n"
KITE = "product: Folding kite\ndescription: Ripstop nylon, folds into a pocket, flies in a minute\n"
CLOCK = "product: Slate wall clock\ndescription: Natural slate face, silent sweep hands\n"

AD_COPY = {
    "search": {
        "headline": BOARD + "=> Solid Oak Chopping Boards",
        "body": BOARD + "=> A solid oak chopping board with an oiled finish, 40 x 25 cm, for every day in the kitchen.",
        "cta": BOARD + "=> Shop boards",
    },
    "social": {
        "headline": KITE + "=> A Kite That Fits Your Pocket",
        "body": KITE + "=> A ripstop nylon kite that folds into a pocket and flies in a minute. Bring it to the beach.",
        "cta": KITE + "=> Get the kite",
    },
    "display": {
        "headline": CLOCK + "=> Quiet Time in Slate",
        "body": CLOCK + "=> A natural slate wall clock with silent sweep hands, for rooms that like it calm.",
        "cta": CLOCK + "=> See the clock",
    },
}

SCARVES = "campaign: Winter sale on cashmere scarves this weekend\naudience: Audience: Customers who bought gloves last year.\n"
EMAIL = {
    "subject": SCARVES + "=> Cashmere Scarves on Sale This Weekend",
    "preview": SCARVES + "=> Keep warm all winter: the scarf sale ends Sunday night.",
}

SOCIAL = {
    "x": ("topic: Late opening at our Bath flower shop\ndetails: Friday until 9 pm, free tulip with every bunch\n"
          "=> Our Bath flower shop stays open until 9 pm this Friday. Pick a bunch and take a tulip home for free."),
    "linkedin": ("topic: Our orchard team planted its ten thousandth tree\ndetails: Cider apples, Somerset, since 2015\n"
                 "=> Our orchard team has planted its ten thousandth cider apple tree in Somerset. Thank you to everyone "
                 "who has helped since 2015."),
    "instagram": ("topic: New chess sets in the shop\ndetails: Walnut and maple boards, hand-turned pieces\n"
                  "=> New chess sets just arrived: walnut and maple boards with hand-turned pieces. Which one would you play on?"),
}

PRODUCT = ("name: Slate wall clock\nfacts: - face: natural slate\n"
           "=> A wall clock with a face of natural slate, so no two are quite alike. It brings a calm, earthy look to any room.")


def examples_for(ctx: RunContext, key: str, default_body: str, prompt: PromptTemplate, **defaults: str):
    """The few-shot turns of one field (the workspace's stored version of `key`, else the
    default), rendered through the field's own prompt template; none where the plugin's
    `few_shot` setting is off."""
    if not ctx.settings.get("few_shot", False):
        return ()
    return few_shot(prompt, ctx.prompt_template(key, default_body), **defaults)
