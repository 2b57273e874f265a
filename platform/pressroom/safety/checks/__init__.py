"""Safety checks. Each takes a batch of subjects and returns one CheckResult per subject."""
from pressroom.safety.checks.base import CheckResult, Evidence, SafetyCheck, Subject, worst_decision

__all__ = ["CheckResult", "Evidence", "SafetyCheck", "Subject", "worst_decision"]
