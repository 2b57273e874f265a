"""Few-shot examples kept as versioned prompt templates, so a workspace can edit them like
any prompt. A template's body holds example blocks, one per blank-line-separated block:

    product: Harbour mug
    description: Stoneware, 350 ml, dishwasher safe
    => Coffee Tastes Better in Stoneware

`name: value` lines fill the field prompt's placeholders; the `=>` line is the answer. Each
block becomes one earlier exchange of the chat: the field's prompt rendered with the block's
values, then its answer (GenerateText.examples)."""
from __future__ import annotations

import re

from pressroom.plugins.usecases import PromptTemplate

ANSWER = "=>"
_VALUE = re.compile(r"^([A-Za-z_][\w]*)\s*:\s?(.*)$")


class ExamplesInvalid(ValueError):
    """An examples template that cannot be read: the message names the block and the line."""


def parse_examples(body: str) -> list[tuple[dict[str, str], str]]:
    """The (values, answer) of each example block; raises ExamplesInvalid naming what is wrong."""
    examples = []
    for number, block in enumerate((b for b in re.split(r"\n\s*\n", body.strip()) if b.strip()), start=1):
        values, answer = {}, None
        for line in (line.strip() for line in block.splitlines() if line.strip()):
            if line.startswith(ANSWER):
                answer = line[len(ANSWER):].strip()
            elif match := _VALUE.match(line):
                values[match.group(1)] = match.group(2).strip()
            else:
                raise ExamplesInvalid(f"Example {number}: '{line}' is neither 'name: value' nor '=> answer'.")
        if not answer:
            raise ExamplesInvalid(f"Example {number} has no '=> answer' line.")
        examples.append((values, answer))
    return examples


def few_shot(prompt: PromptTemplate, examples: PromptTemplate, **defaults: str) -> tuple[tuple[str, str], ...]:
    """Each example as a (request, answer) turn: the field's prompt rendered with the
    example's values over `defaults` (placeholders the example does not set)."""
    return tuple((prompt.render(**{**defaults, **values}), answer) for values, answer in parse_examples(examples.body))
