"""Run every applicable check over a batch of subjects, failing closed."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from pressroom.conf import pressroom_settings
from pressroom.safety.checks.base import CheckResult, SafetyCheck, Subject, worst_decision
from pressroom.safety.registry import all_checks

logger = logging.getLogger(__name__)


@dataclass
class Screening:
    """All check results for one subject, and the combined decision."""

    subject: Subject
    results: list[CheckResult]

    @property
    def decision(self) -> str:
        return worst_decision([result.decision for result in self.results])

    @property
    def reasons(self) -> list[str]:
        return [f"{r.check}: {r.reason}" for r in self.results if r.decision != "pass" and r.reason]


def _applies(check: SafetyCheck, subject: Subject) -> bool:
    return (check.applies_to_images and subject.png is not None) or (check.applies_to_text and subject.png is None)


def _run_check(check: SafetyCheck, subjects: list[Subject], policy) -> list[CheckResult]:
    """A check that raises, times out or answers wrongly flags its subjects for review."""
    timeout = pressroom_settings.SAFETY_CHECK_TIMEOUT_SECONDS
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"check-{check.name}")
    try:
        results = pool.submit(check.run, subjects, policy).result(timeout=timeout)
        if len(results) != len(subjects):
            raise RuntimeError(f"returned {len(results)} results for {len(subjects)} subjects")
        return results
    except FutureTimeout:
        return [check.failed_closed(f"timed out after {timeout}s") for _ in subjects]
    except Exception as error:  # noqa: BLE001 - fail closed, and say why
        logger.exception("Safety check %s failed", check.name)
        return [check.failed_closed(f"{type(error).__name__}: {error}") for _ in subjects]
    finally:
        pool.shutdown(wait=False)


def screen(subjects: list[Subject], policy, checks: list[SafetyCheck] | None = None) -> list[Screening]:
    """Every check runs once over all the subjects it applies to (batched)."""
    screenings = [Screening(subject, []) for subject in subjects]
    for check in checks if checks is not None else all_checks():
        indexes = [i for i, subject in enumerate(subjects) if _applies(check, subject)]
        if not indexes:
            continue
        for index, result in zip(indexes, _run_check(check, [subjects[i] for i in indexes], policy)):
            screenings[index].results.append(result)
    return screenings
