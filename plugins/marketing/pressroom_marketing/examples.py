"""Default few-shot examples per use case, field and channel: one worked exchange each,
for products unlike any brief, so the model sees the answer's form (length, no greeting,
no label) rather than words to copy. Each is a versioned prompt template
(`<use case>.examples.<channel>.<field>`) a workspace can replace in the template editor;
see pressroom.plugins.few_shot for the format."""
from __future__ import annotations

from pressroom.plugins import PromptTemplate, RunContext, few_shot

MUG = "product: Harbour mug\ndescription: Stoneware mug, 350 ml, dishwasher safe\n"
DAYPACK = "product: Alpine daypack\ndescription: 30 litres, rain cover, padded straps\n"
LAMP = "product: Arc desk lamp\ndescription: Brushed brass, warm dimmable LED\n"

AD_COPY = {
    "search": {
        "headline": MUG + "=> Stoneware Mugs, Made to Last",
        "body": MUG + "=> Sturdy 350 ml stoneware mugs that go straight in the dishwasher. Order yours today.",
        "cta": MUG + "=> Shop mugs",
    },
    "social": {
        "headline": DAYPACK + "=> Pack Light, Hike Further",
        "body": DAYPACK + "=> Thirty litres, a rain cover and padded straps: a daypack ready for every trail this summer.",
        "cta": DAYPACK + "=> Find your pack",
    },
    "display": {
        "headline": LAMP + "=> Warm Light, Brass Finish",
        "body": LAMP + "=> A dimmable warm LED lamp in brushed brass, made for late evenings at your desk.",
        "cta": LAMP + "=> Light it up",
    },
}

RAIN = "campaign: Autumn sale on rain jackets this weekend\naudience: Audience: Hikers who bought boots last year.\n"
EMAIL = {
    "subject": RAIN + "=> Rain Jackets on Sale This Weekend",
    "preview": RAIN + "=> Stay dry on every autumn hike: the jacket sale ends Sunday night.",
}

SOCIAL = {
    "x": ("topic: Late opening at our Leeds bakery\ndetails: Friday until 10 pm, fresh bread and live music\n"
          "=> Fresh bread after dark: our Leeds bakery stays open until 10 pm this Friday, with live music. "
          "Come by for a warm loaf and a song."),
    "linkedin": ("topic: We are hiring a warehouse team lead\ndetails: Full time, Sheffield, forklift licence needed\n"
                 "=> We are hiring a warehouse team lead in Sheffield. It is a full-time role for someone with a forklift "
                 "licence who enjoys leading a team. Send us your CV to apply."),
    "instagram": ("topic: New summer smoothie menu\ndetails: Five flavours, from mango to matcha\n"
                  "=> Five new smoothies just landed, from mango to matcha. Which one will be your summer favourite? "
                  "Tell us in the comments."),
}

PRODUCT = ("name: Canvas tote bag\nfacts: - material: organic cotton\n"
           "=> A roomy tote bag in organic cotton, with space for the weekly shop and a book for the bus. "
           "It folds flat when you are done.")


def examples_for(ctx: RunContext, key: str, default_body: str, prompt: PromptTemplate, **defaults: str):
    """The few-shot turns of one field (the workspace's stored version of `key`, else the
    default), rendered through the field's own prompt template; none where the plugin's
    `few_shot` setting is off."""
    if not ctx.settings.get("few_shot", True):
        return ()
    return few_shot(prompt, ctx.prompt_template(key, default_body), **defaults)
