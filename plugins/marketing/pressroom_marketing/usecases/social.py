from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from pressroom.plugins import RunContext, UseCase, UseCaseRun
from pressroom_marketing import examples
from pressroom_marketing.text import Field as TextField
from pressroom_marketing.text import add_disclaimers, trim_at_word_boundary, write_fields
from pressroom_marketing.usecases.common import MarketingInput, base_seed, draft_from_fields, system_prompt, writing_settings

PLATFORMS = {"x": {"limit": 280, "hashtags": 2}, "linkedin": {"limit": 3000, "hashtags": 5}, "instagram": {"limit": 2200, "hashtags": 10}}
Platform = Literal["x", "linkedin", "instagram"]
PROMPT = (
    "Write one {platform} post about {topic}. {details}\n"
    "Write two or three sentences, then invite the reader to act.\n"
    "Reply with the post only, two or three sentences, using only these facts: no hashtags, links, names or dates "
    "that are not given."
)


def hashtag(tag: str) -> str:
    words = re.findall(r"[\w]+", tag)
    return "#" + "".join(w[:1].upper() + w[1:] for w in words) if words else ""


class SocialPostInput(MarketingInput):
    topic: str = Field(min_length=1, max_length=300, examples=["Spring sneaker launch party"])
    details: str = Field(default="", max_length=1000, examples=["Saturday 6 pm at our Leeds store, live DJ."])
    platforms: list[Platform] = Field(min_length=1, max_length=3)
    hashtags: list[str] = Field(default_factory=list, max_length=10, examples=[["SpringDrop", "TrailRunning"]])

    @field_validator("hashtags")
    @classmethod
    def _usable_tags(cls, tags: list[str]) -> list[str]:
        if any(not hashtag(tag) for tag in tags):
            raise ValueError("each hashtag needs at least one letter or digit")
        return tags


class SocialPost(UseCase):
    key = "marketing.social_post"
    title = "Social posts"
    description = "Posts per platform within its length, with the platform's number of hashtags."
    modality = "text"
    Input = SocialPostInput
    expected_steps = 3

    def run(self, data: SocialPostInput, ctx: RunContext) -> UseCaseRun:
        system = system_prompt(ctx, self.key)
        template = ctx.prompt_template(self.key, PROMPT)
        posts = []
        for platform in dict.fromkeys(data.platforms):
            tags = " ".join(dict.fromkeys(hashtag(t) for t in data.hashtags[: PLATFORMS[platform]["hashtags"]]))
            room = PLATFORMS[platform]["limit"] - (len(tags) + 2 if tags else 0)
            for variant in range(data.variants):
                prompt = template.render(platform=platform, topic=data.topic, details=data.details)
                shots = examples.examples_for(ctx, f"{self.key}.examples.{platform}", examples.SOCIAL[platform], template,
                                              platform=platform, details="")
                posts.append((platform, variant, tags, [TextField("post", prompt, room, single_line=False, examples=shots)]))
        everything = [f for *_, fields in posts for f in fields]
        yield from write_fields(everything, seed=base_seed(data, ctx), max_new_tokens=160, **writing_settings(ctx, system))
        # Into the post, before its hashtags: the post's limit already leaves room for them.
        add_disclaimers(everything, "post", ctx.required_disclaimers)
        drafts = []
        for index, (platform, variant, tags, fields) in enumerate(posts):
            text = f"{fields[0].value}\n\n{tags}" if tags else fields[0].value
            text = trim_at_word_boundary(text, PLATFORMS[platform]["limit"])
            extra = {"platform": platform, "variant": variant, "hashtags": tags.split(), "length": len(text),
                     "platform_limit": PLATFORMS[platform]["limit"], **template.provenance}
            drafts.append(draft_from_fields(index, fields, text, system, extra))
        return drafts
