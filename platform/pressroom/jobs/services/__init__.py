"""Writes for jobs (`jobs.py`) and for the artifacts they make (`artifacts.py`)."""
from pressroom.jobs.services.artifacts import (  # noqa: F401
    SCREEN_TASK,
    artifact_approve,
    artifact_edit,
    artifact_publish,
    artifact_reject,
    artifact_screen_apply,
    artifacts_fail_closed,
    artifacts_screen,
)
from pressroom.jobs.services.jobs import (  # noqa: F401
    artifact_provenance,
    job_cancel,
    job_create,
    job_fail,
    job_retry,
    job_retry_later,
    job_set_progress,
    job_start,
    job_stop_if_requested,
    job_succeed,
    jobs_lease_release,
    jobs_lease_renew,
    jobs_requeue_lapsed,
    jobs_sweep,
)
