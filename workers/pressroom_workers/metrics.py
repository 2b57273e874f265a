"""What a worker batch reports to Prometheus (see pressroom.core.metrics)."""
from __future__ import annotations

from collections import Counter as Tally
from typing import Any

from pressroom.core.metrics import BATCH_SIZE, GENERATION, TOKENS, TOKENS_PER_SECOND
from pressroom.plugins.runtime_requests import TextOutput


def record_model_step(calls: list, results: list[Any]) -> None:
    """One executor step: its model calls (time, batch size) and the tokens they wrote."""
    seconds: Tally = Tally()
    for call in calls:
        GENERATION.labels(call.alias).observe(call.seconds)
        BATCH_SIZE.labels(call.alias).observe(call.size)
        seconds[call.alias] += call.seconds
    tokens: Tally = Tally()
    for result in results:
        for output in result if isinstance(result, list) else ():
            if isinstance(output, TextOutput):
                tokens[output.provenance.alias] += output.new_tokens
    for alias, count in tokens.items():
        TOKENS.labels(alias).inc(count)
        if seconds[alias] > 0:
            TOKENS_PER_SECOND.labels(alias).observe(count / seconds[alias])
