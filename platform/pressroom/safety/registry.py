"""Which checks run. The core checks always run; plugins add checks through the
`safety_check` hook (with an order) and can only make a decision stricter, because
the combined decision is the most severe of all results."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pressroom.safety.checks.base import SafetyCheck
from pressroom.safety.checks.brand import BrandCheck
from pressroom.safety.checks.harm import HarmCheck
from pressroom.safety.checks.images import NsfwImageCheck
from pressroom.safety.checks.pii import PiiCheck
from pressroom.safety.checks.quality import quality_checks
from pressroom.safety.checks.topics import BannedTopicCheck
from pressroom.safety.checks.toxicity import ToxicityCheck

_extra_checks: list[tuple[int, SafetyCheck]] = []


def core_checks() -> list[SafetyCheck]:
    return [ToxicityCheck(), HarmCheck(), BannedTopicCheck(), PiiCheck(), BrandCheck(), NsfwImageCheck(), *quality_checks()]


def register_safety_check(check: SafetyCheck, order: int = 100) -> SafetyCheck:
    if not isinstance(check, SafetyCheck):
        raise TypeError(f"{check!r} is not a SafetyCheck instance")
    if check.name in {core.name for core in core_checks()}:
        raise ValueError(f"A plugin check cannot replace the core check {check.name!r}")
    _extra_checks.append((order, check))
    _extra_checks.sort(key=lambda pair: pair[0])
    return check


def unregister_safety_check(check: SafetyCheck) -> None:
    _extra_checks[:] = [(order, c) for order, c in _extra_checks if c is not check]


@contextlib.contextmanager
def safety_check_registered(check: SafetyCheck, order: int = 100) -> Iterator[SafetyCheck]:
    """Register a check for the duration of a test (after Wagtail's register_temporarily)."""
    register_safety_check(check, order)
    try:
        yield check
    finally:
        unregister_safety_check(check)


def _hooked_checks() -> list[SafetyCheck]:
    from pressroom.plugins.hooks import get_hooks

    checks = [check for hook in get_hooks("safety_checks") for check in hook()]
    core_names = {core.name for core in core_checks()}
    for check in checks:
        if not isinstance(check, SafetyCheck):
            raise TypeError(f"safety_checks hook returned {check!r}, not a SafetyCheck")
        if check.name in core_names:
            raise ValueError(f"A plugin check cannot replace the core check {check.name!r}")
    return checks


def all_checks() -> list[SafetyCheck]:
    return core_checks() + [check for _, check in _extra_checks] + _hooked_checks()


def stage_checks(stage: str) -> list[SafetyCheck]:
    """The checks of one stage ("safety" or "quality"), core and plugin alike, for evaluations."""
    return [check for check in all_checks() if check.stage == stage]
