"""Domain errors raised by services. Entry points (views, API, admin, tasks) translate
them; the services never return half-done work with an error."""
from __future__ import annotations


class PressroomError(Exception):
    """Base class for errors a caller can show to a user."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputInvalid(PressroomError):
    """The request failed validation; `field_errors` maps a field path to its messages."""

    code = "invalid"

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.field_errors = field_errors or {}

    def __str__(self) -> str:
        if not self.field_errors:
            return self.message
        details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.field_errors.items())
        return f"{self.message} ({details})"


class UnknownUseCase(InputInvalid):
    code = "unknown_use_case"


class UseCaseNotOffered(InputInvalid):
    """Installed, but its plugin is turned off in this workspace."""

    code = "use_case_not_offered"


class InvalidTransition(PressroomError):
    """A state change that the state machine does not allow from the current state."""

    code = "invalid_transition"


class IdempotencyConflict(PressroomError):
    """The idempotency key was used before with a different request."""

    code = "idempotency_conflict"


class NotAllowed(PressroomError):
    """The caller may see the object but lacks the role or scope for this action."""

    code = "permission_denied"


class NotFound(PressroomError):
    """The object does not exist for this caller (another workspace's objects are never
    revealed: they answer exactly like missing ones)."""

    code = "not_found"


class QuotaExceeded(PressroomError):
    """A workspace's quota refuses new work; nothing was written. `resets_at` is the UTC
    start of the next day or month (`period`), when the limit frees up."""

    code = "quota_exceeded"

    def __init__(self, *, metric: str, period: str, limit: float, usage: float, resets_at, requested: int = 0) -> None:
        self.metric, self.period, self.limit, self.usage = metric, period, limit, usage
        self.resets_at, self.requested = resets_at, requested
        label = metric.replace("_", "-")
        if requested:
            what = (f"{requested} more {label} would go over this workspace's limit of {_amount(limit)} {label} "
                    f"per {period} ({_amount(usage)} used)")
        else:
            what = f"this workspace has used {_amount(usage)} of its {_amount(limit)} {label} per {period}"
        start_of = "the next day" if period == "day" else "the next month"
        super().__init__(f"Quota exceeded: {what}. It resets at {resets_at:%Y-%m-%d %H:%M} UTC, the start of {start_of}.")


def _amount(number: float) -> str:
    return format(number, ".3f").rstrip("0").rstrip(".")
