"""The AgentPool validating webhook: no spec change may strand a reserved or running slot.

The schema (and its CEL rules) checks a spec on its own; what it cannot see is the slot
ledger in status, which is what a spec change must respect:

- lowering ``slotsPerAgent`` below a slot index that is Reserved or Running would leave
  that task on a slot the pod no longer offers;
- lowering ``maxReplicas`` below the number of pods holding a Reserved or Running slot
  would ask the autoscaler for fewer pods than the busy ones, which it never deletes.

Such an update is refused with a 422 naming the field and the busy pods and slots, so the
person knows what to release or wait for; any other change (raising either, or lowering
them while the slots are idle) goes through. Served at kubebuilder's path
``/validate-kreconcile-io-v1alpha1-agentpool`` by ``setup_webhook``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from controllers.agentpool.ledger import BUSY
from crds import AgentPool
from reconcile.webhook import FieldError, WebhookBuilder, invalid

if TYPE_CHECKING:
    from reconcile.manager import Manager

__all__ = ["AgentPoolValidator", "setup_webhook", "stranding_errors"]

_DEFAULT_SLOTS = 3
_LISTED = 5
"""Busy slots or pods named in a refusal; the rest are counted."""


def _busy(status: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """(pod, slot index, state, task) of every Reserved or Running slot."""
    return [
        (str(pod.get("name")), int(slot.get("index", 0)), str(slot.get("state")),
         str(slot.get("task", "")))
        for pod in status.get("pods") or []
        for slot in pod.get("slots") or []
        if slot.get("state") in BUSY
    ]  # fmt: skip


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    return shown if len(items) <= _LISTED else f"{shown} and {len(items) - _LISTED} more"


def stranding_errors(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    """What the update of ``old`` to ``new`` would strand, as field errors (none: allowed)."""
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    busy = _busy(old.get("status") or {})
    errors = []
    slots = int(new_spec.get("slotsPerAgent", _DEFAULT_SLOTS))
    if slots < int(old_spec.get("slotsPerAgent", _DEFAULT_SLOTS)):
        stranded = [f"{pod} slot {index} ({state} by {task})"
                    for pod, index, state, task in busy if index >= slots]  # fmt: skip
        if stranded:
            errors.append(FieldError(
                "Forbidden", "spec.slotsPerAgent",
                f"lowering slotsPerAgent to {slots} would strand {_listed(stranded)}: release "
                "those slots or wait until their tasks finish",
            ))  # fmt: skip
    maximum = new_spec.get("maxReplicas")
    if isinstance(maximum, int) and maximum < int(old_spec.get("maxReplicas", maximum)):
        holding = sorted({pod for pod, _, _, _ in busy})
        if len(holding) > maximum:
            errors.append(FieldError(
                "Forbidden", "spec.maxReplicas",
                f"lowering maxReplicas to {maximum} would strand the busy slots of "
                f"{len(holding)} pods ({_listed(holding)}): at least {len(holding)} are needed "
                "until their tasks finish",
            ))  # fmt: skip
    return errors


class AgentPoolValidator:
    """A ``CustomValidator`` for AgentPools: creates and deletes always pass."""

    def validate_create(self, obj: dict[str, Any]) -> None:
        return None

    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        errors = stranding_errors(old, new)
        if errors:
            name = str((new.get("metadata") or {}).get("name", ""))
            raise invalid(AgentPool.GVK, name, *errors)

    def validate_delete(self, obj: dict[str, Any]) -> None:
        return None


def setup_webhook(manager: Manager) -> None:
    """Serve the validator on the manager's webhook server."""
    WebhookBuilder(manager).for_(AgentPool).with_validator(AgentPoolValidator()).complete()
