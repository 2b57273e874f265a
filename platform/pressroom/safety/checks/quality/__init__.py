"""The quality stage: rules that flag copy a marketer could not use as written (template
residue, meta-text, made-up facts, loops, cut-off or empty fields, extra hashtags, the
wrong language). Same verdict machinery as safety; a quality check only ever flags."""
from __future__ import annotations

from pressroom.safety.checks.quality.facts import UnsupportedFactCheck
from pressroom.safety.checks.quality.form import EmptyFieldCheck, ExtraHashtagCheck, TruncatedCheck
from pressroom.safety.checks.quality.language import LanguageCheck
from pressroom.safety.checks.quality.repetition import RepetitionCheck
from pressroom.safety.checks.quality.residue import MetaTextCheck, PlaceholderCheck

QUALITY_CHECK_CLASSES = (PlaceholderCheck, MetaTextCheck, UnsupportedFactCheck, RepetitionCheck, TruncatedCheck,
                         EmptyFieldCheck, ExtraHashtagCheck, LanguageCheck)
QUALITY_CHECK_NAMES = tuple(check.name for check in QUALITY_CHECK_CLASSES)


def quality_checks() -> list:
    return [check() for check in QUALITY_CHECK_CLASSES]
