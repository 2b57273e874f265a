"""Image requests are checked against the soft time limit with the speed the image worker
measured the first time it ran a size: the API refuses what cannot finish, saying which
size would, and accepts what can."""
import pytest

from pressroom.accounts.access import Access
from pressroom.core.errors import InputInvalid
from pressroom.jobs.models import ImageStepTiming, Job
from pressroom.jobs.services import job_create
from pressroom_workers.testing import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.models]


def test_the_worker_measures_a_size_and_job_creation_refuses_what_cannot_finish(start_worker, workspace, settings):
    system = Access.system(workspace)
    small = job_create(access=system, use_case_key="core.image",
                       input={"prompt": "A red square", "width": 64, "height": 64, "steps": 2})
    start_worker()
    wait_for(lambda: Job.objects.get(pk=small.pk).status == "succeeded", timeout=180, what="the small image job")
    timing = ImageStepTiming.objects.get(alias="image-default", width=64, height=64)
    assert timing.seconds_per_step > 0

    # Make the limit tight relative to the measured speed: 10 steps at 64 px fit, 100 steps at 1024 px do not.
    settings.PRESSROOM = {**settings.PRESSROOM, "SOFT_TIME_LIMIT_SECONDS": max(1, int(timing.seconds_per_step * 40))}
    fits = job_create(access=system, use_case_key="core.image", input={"prompt": "A red square", "width": 64, "height": 64,
                                                                        "steps": 10})
    assert fits.status == "queued"
    with pytest.raises(InputInvalid) as refused:
        job_create(access=system, use_case_key="core.image", input={"prompt": "A red square", "width": 1024, "height": 1024,
                                                                     "steps": 100})
    message = refused.value.field_errors["width"][0]
    assert "over the" in message and "per step at 1024×1024" in message and ("fits" in message or "would" in message)
    with pytest.raises(InputInvalid) as preset:
        job_create(access=system, use_case_key="design.concept_image",
                   input={"product": "Trail shoes", "preset": "instagram_post", "steps": 100})
    assert "preset" in preset.value.field_errors
