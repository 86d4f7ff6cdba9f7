"""metav1.Condition helpers with the API conventions' rules.

``set_condition`` changes ``lastTransitionTime`` only when ``status`` changes (a reason or
message update is not a transition) and records ``observedGeneration``, so readers can tell
a condition about an old spec from one about the current spec.
"""

from __future__ import annotations

from typing import Any

from reconcile.timestamps import rfc3339

__all__ = ["find_condition", "is_true", "remove_condition", "set_condition"]


def find_condition(conditions: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def is_true(conditions: list[dict[str, Any]], kind: str) -> bool:
    found = find_condition(conditions, kind)
    return found is not None and found.get("status") == "True"


def set_condition(
    conditions: list[dict[str, Any]],
    kind: str,
    status: str,
    reason: str,
    message: str = "",
    *,
    observed_generation: int | None = None,
    now: str | None = None,
) -> bool:
    """Set the condition ``kind`` in place; return whether anything changed."""
    if status not in ("True", "False", "Unknown"):
        raise ValueError(f"condition status must be True, False or Unknown, got {status!r}")
    existing = find_condition(conditions, kind)
    desired: dict[str, Any] = {"type": kind, "status": status, "reason": reason, "message": message}
    if observed_generation is not None:
        desired["observedGeneration"] = observed_generation
    if existing is None:
        desired["lastTransitionTime"] = now or rfc3339()
        conditions.append(desired)
        return True
    desired["lastTransitionTime"] = (
        (existing.get("lastTransitionTime") if existing.get("status") == status else None)
        or now
        or rfc3339()
    )
    if all(existing.get(k) == v for k, v in desired.items()) and len(existing) == len(desired):
        return False
    existing.clear()
    existing.update(desired)
    return True


def remove_condition(conditions: list[dict[str, Any]], kind: str) -> bool:
    for index, condition in enumerate(conditions):
        if condition.get("type") == kind:
            del conditions[index]
            return True
    return False
