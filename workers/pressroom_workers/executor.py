"""Runs a batch of jobs step by step so their runtime requests share model calls.

Each job's use case is a generator that yields runtime requests. Requests for an engine
that batches continuously (llama.cpp, openai) go out as soon as each job yields them, and
the engine decodes them together with everything else in flight; the other pending
requests of the moment go to the runtime together, which groups compatible ones into one
model call. Results go back to their generators. Between steps each job is checked for
cancellation and its soft time limit: that is the "step boundary" where a running job
can stop. A job is finished (its artifacts stored) as soon as its use case returns.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import DatabaseError, close_old_connections, connection, connections
from django.utils import timezone
from pressroom.audit.services import Actor
from pressroom.conf import pressroom_settings
from pressroom.core.errors import PressroomError
from pressroom.core.metrics import QUEUE_WAIT
from pressroom.jobs import services
from pressroom.jobs.models import Artifact, Job
from pressroom.jobs.validation import use_case_get
from pressroom.plugins import (
    ArtifactDraft,
    PluginConfig,
    RunContext,
    RuntimeRequest,
    UseCaseRun,
)
from pressroom.plugins.services import prompt_template_resolver
from pressroom.jobs.services.artifacts import artifacts_fail_closed, artifacts_screen
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.services import jobs_input_rescreen, quality_problems, safety_policy_get
from pressroom.usage.metering import Usage, usage_of_result

from pressroom_workers.metrics import record_model_step
from pressroom_workers.runtime import ModelRuntime, RequestFailed
from pressroom_workers.safety import ensure_configured_toxicity_scorer

logger = logging.getLogger(__name__)


@dataclass
class JobRun:
    job: Job
    generator: UseCaseRun
    pending: RuntimeRequest | None = None
    drafts: list[ArtifactDraft] | None = None
    steps_done: int = 0
    expected_steps: int = 1
    stopped: bool = False
    finished: bool = False
    # What this attempt spent so far: recorded with its result, whichever it is.
    usage: Usage = field(default_factory=Usage)

    @property
    def waiting(self) -> bool:
        return not self.stopped and self.drafts is None

    def advance(self, value: Any = None, *, first: bool = False) -> None:
        """Feed a result to the use case and take its next request (or its artifacts)."""
        try:
            self.pending = next(self.generator) if first else self.generator.send(value)
        except StopIteration as finished:
            self.pending = None
            self.drafts = list(finished.value or [])


@dataclass
class BatchReport:
    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plugin_settings(label: str) -> dict[str, Any]:
    try:
        config = apps.get_app_config(label)
    except LookupError:
        return {}
    return config.settings if isinstance(config, PluginConfig) else {}


def required_disclaimers(workspace_id: int, use_case_key: str, policy: SafetyPolicy | None = None) -> tuple[str, ...]:
    """The phrases the workspace's policy requires in this use case's output, for the run
    context: the use case writes them in, and the brand check then verifies them."""
    policy = policy or safety_policy_get(workspace=workspace_id)
    phrases = (policy.required_disclaimers or {}).get(use_case_key, [])
    return tuple(str(phrase) for phrase in phrases if str(phrase).strip())


def quality_reviewer(job: Job, policy: SafetyPolicy) -> Callable[[str], list[str]]:
    """The quality stage's rules for this job's brief and workspace, for its use case to ask
    before it returns its drafts (it regenerates what they flag)."""
    return lambda text: quality_problems(text=text, policy=policy, use_case=job.use_case, brief=job.input)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


_timed_sizes: set[tuple] = set()  # what this process has measured already


def record_image_timings(calls: list) -> None:
    """The first call at each image size tells job creation how long a step takes here."""
    from pressroom.jobs.timing import image_step_timing_record

    for call in calls:
        steps = call.params.get("steps")
        key = (call.alias, call.params.get("width"), call.params.get("height"), call.device)
        if not steps or key in _timed_sizes:
            continue
        _timed_sizes.add(key)
        try:
            image_step_timing_record(alias=call.alias, width=key[1], height=key[2], device=call.device,
                                     seconds_per_step=call.seconds / (steps * call.size))
        except DatabaseError:
            logger.warning("Could not record the image step timing %s", key, exc_info=True)


class CancellationWatch:
    """Asked by the model between decoding or denoising steps: which of this step's
    requests belong to jobs someone asked to cancel. Reads the database at most every
    CHECK_SECONDS, so the model loop is not slowed down."""

    CHECK_SECONDS = 0.5

    def __init__(self, job_ids: list) -> None:
        self.job_ids = job_ids
        self._checked_at = 0.0
        self._cancelled: set[int] = set()

    def cancelled_indexes(self, fresh: bool = False) -> set[int]:
        """Asked from the model's thread (a step thread, llama.cpp's scheduler): a database
        hiccup keeps the last answer rather than breaking the model call."""
        now = time.monotonic()
        if fresh or now - self._checked_at >= self.CHECK_SECONDS:
            self._checked_at = now
            try:
                if not connection.in_atomic_block:
                    close_old_connections()
                asked = set(Job.objects.filter(pk__in=self.job_ids, cancel_requested_at__isnull=False)
                            .values_list("pk", flat=True))
            except DatabaseError:
                logger.warning("Could not check for cancelled jobs", exc_info=True)
                return self._cancelled
            self._cancelled = {index for index, job_id in enumerate(self.job_ids) if job_id in asked}
        return self._cancelled


class LeaseKeeper:
    """Renews the leases of the batch's jobs every third of LEASE_SECONDS from a thread, so
    a long model call never looks like a lost worker; a killed process stops renewing."""

    def __init__(self, job_ids: list[str], worker: str) -> None:
        self.job_ids, self.worker = job_ids, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="pressroom-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        if self.job_ids:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _renew(self) -> None:
        interval = max(pressroom_settings.LEASE_SECONDS / 3, 0.5)
        while not self._stop.wait(interval):
            try:
                services.jobs_lease_renew(job_ids=self.job_ids, worker=self.worker)
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease has slack
                logger.warning("Could not renew leases of %s", self.job_ids, exc_info=True)
            finally:
                close_old_connections()


class JobBatchExecutor:
    def __init__(self, runtime: ModelRuntime, worker_name: str = "") -> None:
        self.runtime = runtime
        self.worker_name = worker_name
        self.report = BatchReport()

    def run(self, job_ids: list[str]) -> BatchReport:
        ensure_configured_toxicity_scorer()
        runs = [run for run in (self._start(job_id) for job_id in dict.fromkeys(job_ids)) if run]
        with LeaseKeeper([str(run.job.pk) for run in runs], self.worker_name):
            runs = self._screen_inputs(runs)
            self._drive(runs)
        self._screen_new_artifacts()
        return self.report

    def _drive(self, runs: list[JobRun]) -> None:
        """Advance every job as soon as its own request is served, and finish it as soon as
        it has its artifacts. Requests for an engine that batches continuously go out one
        job at a time (the engine merges them step by step, so a short job never waits for a
        long one); the other requests of the moment go out together as one model call."""
        in_flight: dict[Future, tuple[list[JobRun], CancellationWatch]] = {}
        with ThreadPoolExecutor(max_workers=max(len(runs), 1), thread_name_prefix="pressroom-step") as pool:
            while True:
                busy = {id(run) for group, _ in in_flight.values() for run in group}
                for group in self._call_groups([run for run in runs if run.waiting and id(run) not in busy]):
                    watch = CancellationWatch([run.job.pk for run in group])
                    future = pool.submit(self._execute, group, watch)
                    in_flight[future] = (group, watch)
                self._finish_ready(runs)
                if not in_flight:
                    return
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    group, watch = in_flight.pop(future)
                    self._take_results(group, watch, *future.result())

    def _call_groups(self, ready: list[JobRun]) -> list[list[JobRun]]:
        alone = [run for run in ready if self.runtime.batches_continuously(run.pending)]
        together = [run for run in ready if run not in alone]
        return [[run] for run in alone] + ([together] if together else [])

    def _execute(self, group: list[JobRun], watch: CancellationWatch) -> tuple[list, list]:
        """In a step thread: the model call, and the calls it made (for metrics)."""
        try:
            results = self.runtime.execute([run.pending for run in group], cancelled=watch.cancelled_indexes,
                                           owners=[(str(run.job.pk), run.job.created_at.timestamp()) for run in group])
            return results, self.runtime.last_calls
        finally:
            connections.close_all()  # this thread's own (cancellation checks); the thread ends

    def _take_results(self, group: list[JobRun], watch: CancellationWatch, results: list, calls: list) -> None:
        record_image_timings(calls)
        record_model_step(calls, results)
        stopped_mid_call = watch.cancelled_indexes(fresh=True)
        for index, (run, result) in enumerate(zip(group, results)):
            run.usage.add(usage_of_result(result))  # spent, even when the output is dropped
            if index not in stopped_mid_call:  # a cancelled call's partial output is dropped
                self._deliver(run, result)
        for run in group:
            self._at_step_boundary(run)

    def _finish_ready(self, runs: list[JobRun]) -> None:
        for run in runs:
            if run.drafts is not None and not run.stopped and not run.finished:
                run.finished = True
                self._finish(run)

    def _screen_new_artifacts(self) -> None:
        """Screen the artifacts of every job that succeeded in this batch, the checks
        batched across jobs. If screening itself breaks, the artifacts go to review."""
        artifact_ids = list(
            Artifact.objects.filter(job_id__in=self.report.succeeded + self.report.skipped, status="screening")
            .values_list("pk", flat=True)
        )
        if not artifact_ids:
            return
        actor = Actor.worker(self.worker_name)
        try:
            artifacts_screen(artifact_ids=artifact_ids, actor=actor)
        except DatabaseError:
            raise
        except Exception as error:  # noqa: BLE001 - fail closed
            logger.exception("Screening failed; sending artifacts to review")
            artifacts_fail_closed(artifact_ids=artifact_ids, error=_error_text(error), actor=actor)

    def _start(self, job_id: str) -> JobRun | None:
        try:
            job = services.job_start(job=job_id, worker=self.worker_name)
        except Job.DoesNotExist:
            # A message for no job here (deleted since, or published against another
            # database): failing would requeue it forever and hold up every job batched with it.
            logger.warning("Skipping job %s: no such job in this database", job_id)
            self.report.skipped.append(str(job_id))
            return None
        if job is not None and job.started_at:
            QUEUE_WAIT.labels(job.use_case).observe(max((job.started_at - job.created_at).total_seconds(), 0))
        if job is None:
            # Already finished: a redelivery. If it succeeded but its worker died before
            # screening, the screening below picks its artifacts up.
            self.report.skipped.append(str(job_id))
            return None
        try:
            use_case = use_case_get(job.use_case)
            data = use_case.Input.model_validate(job.input)
            policy = safety_policy_get(workspace=job.workspace_id)  # read once for both below
            ctx = RunContext(
                job_id=str(job.pk), workspace_slug=job.workspace.slug, workspace_id=job.workspace_id,
                base_seed=job.base_seed, templates=prompt_template_resolver(job.workspace_id),
                settings=plugin_settings(use_case.plugin),
                required_disclaimers=required_disclaimers(job.workspace_id, job.use_case, policy),
                quality_review=quality_reviewer(job, policy),
            )
            run = JobRun(job=job, generator=use_case.run(data, ctx), expected_steps=use_case.expected_steps)
            run.advance(first=True)
        except Exception as error:  # noqa: BLE001 - a plugin bug fails its own job, not the batch
            self._fail(job, f"Use case could not start: {_error_text(error)}", error)
            return None
        return run

    def _screen_inputs(self, runs: list[JobRun]) -> list[JobRun]:
        """Screen the inputs again with the worker's own models (detoxify) before any
        generation; a blocked input fails its job with the rule and the reason."""
        if not runs:
            return runs
        blocked = jobs_input_rescreen(jobs=[run.job for run in runs])
        for run in runs:
            if run.job.pk in blocked:
                run.stopped = True
                run.generator.close()
                self._fail(run.job, blocked[run.job.pk])
        return [run for run in runs if not run.stopped]

    def _deliver(self, run: JobRun, result: Any) -> None:
        if isinstance(result, RequestFailed):
            self._stop_with_error(run, result, transient=result.transient)
            return
        try:
            run.advance(result)
            run.steps_done += 1
        except Exception as error:  # noqa: BLE001
            self._stop_with_error(run, error, transient=False)

    def _stop_with_error(self, run: JobRun, error: BaseException, *, transient: bool) -> None:
        run.stopped = True
        run.generator.close()
        if transient:
            services.job_retry_later(job=run.job, error=_error_text(error), actor=Actor.worker(self.worker_name),
                                     usage=run.usage)
            self.report.retried.append(str(run.job.pk))
        else:
            self._fail(run.job, _error_text(error), error, usage=run.usage)

    def _fail(self, job: Job, message: str, error: BaseException | None = None, usage: Usage | None = None) -> None:
        if error is not None and not isinstance(error, (PressroomError, RequestFailed)):
            logger.error("Job %s failed:\n%s", job.pk, "".join(traceback.format_exception(error)))
        services.job_fail(job=job, error=message, actor=Actor.worker(self.worker_name), usage=usage)
        self.report.failed.append(str(job.pk))

    def _at_step_boundary(self, run: JobRun) -> None:
        if run.stopped:
            return
        if services.job_stop_if_requested(job=run.job, usage=run.usage):
            run.stopped = True
            run.generator.close()
            self.report.cancelled.append(str(run.job.pk))
            return
        soft_limit = timedelta(seconds=pressroom_settings.SOFT_TIME_LIMIT_SECONDS)
        if run.job.started_at and timezone.now() - run.job.started_at > soft_limit:
            run.stopped = True
            run.generator.close()
            self._fail(run.job, f"Time limit of {soft_limit.seconds}s exceeded.", usage=run.usage)
            return
        if run.waiting:
            progress = 5 + int(90 * min(run.steps_done, run.expected_steps) / max(run.expected_steps, 1))
            services.job_set_progress(job=run.job, progress=min(progress, 95))

    def _finish(self, run: JobRun) -> None:
        try:
            services.job_succeed(job=run.job, drafts=run.drafts or [], actor=Actor.worker(self.worker_name),
                                 usage=run.usage)
        except DatabaseError:
            raise  # the whole batch is redelivered; job_succeed is idempotent
        except Exception as error:  # noqa: BLE001 - malformed drafts fail this job only
            self._fail(run.job, f"Could not store artifacts: {_error_text(error)}", error, usage=run.usage)
            return
        self.report.succeeded.append(str(run.job.pk))
