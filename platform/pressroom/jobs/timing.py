"""Will an image request finish in time on these workers? Workers record how long one
denoising step of one image takes at each size they run (the first time); job creation
plans the use case's image requests (its `run`, driven without models) and refuses what
could not finish within the soft time limit, saying which size would."""
from __future__ import annotations

import math

from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid
from pressroom.jobs.models import ImageStepTiming
from pressroom.plugins import GenerateImages, UseCase

# Leave room for loading, text steps, screening and the decode.
BUDGET_SHARE = 0.8


def image_step_timing_record(*, alias: str, width: int, height: int, device: str, seconds_per_step: float) -> None:
    ImageStepTiming.objects.update_or_create(alias=alias, width=width, height=height, device=device,
                                             defaults={"seconds_per_step": seconds_per_step})


def _seconds_per_pixel_step(alias: str, width: int, height: int) -> float | None:
    """From the measurement nearest in size, on the slowest device that ran it."""
    timings = list(ImageStepTiming.objects.filter(alias=alias))
    if not timings:
        return None
    pixels = width * height
    nearest = min(timings, key=lambda t: (abs(t.width * t.height - pixels), -t.seconds_per_step))
    return nearest.seconds_per_step / (nearest.width * nearest.height)


def planned_image_requests(use_case: UseCase, validated: dict) -> list[GenerateImages]:
    """Drive the use case's `run` with placeholder answers (no model) to see which image
    requests it will make: plugins describe their work as data."""
    from django.apps import apps

    from pressroom.plugins import PluginConfig
    from pressroom.plugins.testing import FakeRuntime, make_context

    config = next((c for c in apps.get_app_configs() if c.label == use_case.plugin), None)
    settings = config.settings if isinstance(config, PluginConfig) else {}
    runtime = FakeRuntime()
    generator = use_case.run(use_case.Input.model_validate(validated), make_context(settings=settings))
    try:
        request = next(generator)
        while True:
            request = generator.send(runtime.execute(request))
    except StopIteration:
        pass
    return [request for request in runtime.requests if isinstance(request, GenerateImages)]


def _largest_side_that_fits(seconds_left: float, steps: int, images: int, per_pixel_step: float) -> int:
    pixels = seconds_left / (steps * images * per_pixel_step)
    return int(math.sqrt(max(pixels, 0)) // 64 * 64)


def job_time_check(*, use_case: UseCase, validated: dict) -> None:
    """Refuse an image request that this deployment's workers could not finish in time."""
    if use_case.modality != "image":
        return
    budget = pressroom_settings.SOFT_TIME_LIMIT_SECONDS * BUDGET_SHARE
    total, worst = 0.0, None
    for request in planned_image_requests(use_case, validated):
        per_pixel_step = _seconds_per_pixel_step(request.model, request.width, request.height)
        if per_pixel_step is None:
            continue  # never measured here: nothing to go on yet
        seconds = per_pixel_step * request.width * request.height * request.steps * len(request.prompts)
        total += seconds
        worst = max(worst or (0, request, per_pixel_step), (seconds, request, per_pixel_step), key=lambda w: w[0])
    if worst is None or total <= budget:
        return
    seconds, request, per_pixel_step = worst
    side = _largest_side_that_fits(budget - (total - seconds), request.steps, len(request.prompts), per_pixel_step)
    step_seconds = per_pixel_step * request.width * request.height
    hint = f" A size up to {side}×{side} fits." if side >= 64 else " Fewer steps or images would."
    message = (f"This would take about {total / 60:.0f} min on this deployment's image worker "
               f"({step_seconds:.1f} s per step at {request.width}×{request.height}, {request.steps} steps × "
               f"{len(request.prompts)} image(s)), over the {pressroom_settings.SOFT_TIME_LIMIT_SECONDS // 60}-minute limit."
               f"{hint}")
    field = next((name for name in ("preset", "width", "steps") if name in validated), "input")
    raise InputInvalid("The request cannot finish in time.", {field: [message]})
