"""The campaign state machine: which action moves which status where.

``TRANSITIONS[action][from_status]`` is the status the action leads to. Anything not in
the table is refused with ``InvalidTransition`` (409) naming both states. The
``can_<action>`` predicates read the same table, so the UI shows exactly the actions
the services accept.
"""

from __future__ import annotations

from herald.campaigns.choices import CampaignStatus as S
from herald.campaigns.choices import LifecycleAction as A
from herald.core.errors import InvalidTransition

__all__ = [
    "EDITABLE_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "USER_ACTIONS",
    "allowed_actions",
    "can",
    "target_status",
]

TRANSITIONS: dict[A, dict[S, S]] = {
    A.SCHEDULE: {S.DRAFT: S.SCHEDULED},
    # A draft whose start is in the future is scheduled instead (see campaign_launch).
    A.LAUNCH: {S.DRAFT: S.LAUNCHING, S.SCHEDULED: S.LAUNCHING},
    A.LAUNCH_SUCCEEDED: {S.LAUNCHING: S.ACTIVE},
    # A scheduled campaign whose checks fail at its start time goes straight to error.
    A.LAUNCH_FAILED: {S.LAUNCHING: S.ERROR, S.SCHEDULED: S.ERROR},
    A.PAUSE: {S.ACTIVE: S.PAUSED},
    A.RESUME: {S.PAUSED: S.ACTIVE},
    A.COMPLETE: {S.ACTIVE: S.COMPLETED, S.PAUSED: S.COMPLETED},
    A.CANCEL: {
        S.DRAFT: S.CANCELLED,
        S.SCHEDULED: S.CANCELLED,
        S.ACTIVE: S.CANCELLED,
        S.PAUSED: S.CANCELLED,
        S.ERROR: S.CANCELLED,
    },
    A.RETRY: {S.ERROR: S.LAUNCHING},
}

# Actions a person (or an API key) may request; the others are reported by the system.
USER_ACTIONS: tuple[A, ...] = (
    A.SCHEDULE,
    A.LAUNCH,
    A.PAUSE,
    A.RESUME,
    A.COMPLETE,
    A.CANCEL,
    A.RETRY,
)

TERMINAL_STATUSES = frozenset({S.COMPLETED, S.CANCELLED})
# Statuses in which the campaign's plan (objective, currency, start) may still change.
EDITABLE_STATUSES = frozenset({S.DRAFT, S.SCHEDULED, S.ERROR})


def can(action: A, status: str) -> bool:
    return status in TRANSITIONS[action]


def target_status(action: A, status: str) -> S:
    """Return where ``action`` leads from ``status`` or raise ``InvalidTransition``."""
    try:
        return TRANSITIONS[action][S(status)]
    except (KeyError, ValueError):
        allowed_from = ", ".join(sorted(TRANSITIONS[action])) or "nowhere"
        raise InvalidTransition(
            detail=f"Cannot {action.value} a campaign that is {status}; "
            f"{action.value} is allowed from: {allowed_from}.",
            extra={"action": action.value, "current_status": status},
        ) from None


def allowed_actions(status: str) -> list[str]:
    return [action.value for action in USER_ACTIONS if can(action, status)]
