"""AgentPool: a pool of agent pods offering task slots, and the durable ledger of those slots.

Every slot of every pod is recorded in status: idle, reserved for a task (since, expiresAt)
or running one. The ledger is the one source of truth: after an operator restart nothing is
re-initialised as idle, and the autoscaler never deletes a pod holding a reserved or running
slot. Claimers write their slot with optimistic concurrency on the ledger; ``pods`` is a list
map keyed by pod name, and each pod's ``slots`` a list map keyed by index.

Scaling: the pool runs enough agents for running + reserved + pending slots, within
[minReplicas, maxReplicas]. ``spec.replicas`` (what ``kubectl scale`` sets through the /scale
subresource) is a floor the autoscaler keeps on top of minReplicas; it never exceeds
maxReplicas (rejected) and never makes the pool delete a busy pod.

Bounds: 200 pods of 16 slots, task IDs of 64 characters, 512 pending claims; a pool of 100
agents with 3 slots each needs well under 100 KiB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from crds.common import Conditions, Name, Resource, Time
from crds.definition import KindDefinition, PrinterColumn, Scale
from crds.markers import (
    ListMap,
    Maximum,
    MaxItems,
    MaxLength,
    MaxProperties,
    Minimum,
    MinLength,
    PreserveUnknownFields,
    Rule,
    SchemaMarker,
)
from reconcile.gvk import GroupVersionKind

__all__ = [
    "DEFINITION",
    "MAX_REPLICAS",
    "MAX_SLOTS_PER_AGENT",
    "AgentPool",
    "AgentPoolSpec",
    "AgentPoolStatus",
    "PendingClaim",
    "PodSlots",
    "PodState",
    "PodTemplate",
    "PodTemplateMetadata",
    "Slot",
    "SlotState",
]

MAX_REPLICAS = 200
"""Ceiling of maxReplicas: 200 pods x 16 slots keep the ledger under 1 MiB at worst."""
MAX_SLOTS_PER_AGENT = 16

SlotState = Literal["Idle", "Reserved", "Running"]
PodState = Literal["Starting", "Ready", "NotReady", "Unknown", "Failed", "Terminating", "Removing"]
TaskID = Annotated[str, MinLength(1), MaxLength(64)]
Replicas = Annotated[int, Minimum(0), Maximum(MAX_REPLICAS)]
Count = Annotated[int, Minimum(0)]


@dataclass(kw_only=True, slots=True)
class PodTemplateMetadata:
    """Labels and annotations of the pods the pool creates (the pool adds its own labels)."""

    labels: Annotated[dict[str, Annotated[str, MaxLength(63)]], MaxProperties(64)] | None = None
    """Labels of each pod."""
    annotations: Annotated[dict[str, str], MaxProperties(64)] | None = None
    """Annotations of each pod."""


@dataclass(kw_only=True, slots=True)
class PodTemplate:
    """The agent pods' template, as in a Deployment."""

    spec: Annotated[dict[str, Any], PreserveUnknownFields()]
    """The pod spec (core/v1 PodSpec); the API server validates it when a pod is created."""
    metadata: PodTemplateMetadata | None = None
    """Labels and annotations of the pods."""


@dataclass(kw_only=True, slots=True)
class AgentPoolSpec:
    """The pool's pods, their slots, and how the pool scales."""

    OBJECT_MARKERS: ClassVar[tuple[SchemaMarker, ...]] = (
        Rule(
            "self.minReplicas <= self.maxReplicas",
            "minReplicas must not be greater than maxReplicas",
            field_path=".minReplicas",
        ),
        Rule(
            "!has(self.replicas) || self.replicas <= self.maxReplicas",
            "replicas must not be greater than maxReplicas",
            field_path=".replicas",
        ),
    )

    template: PodTemplate
    """Template of the agent pods."""
    max_replicas: Annotated[int, Minimum(1), Maximum(MAX_REPLICAS)]
    """The most agent pods the pool may run."""
    min_replicas: Replicas = 1
    """The fewest agent pods the pool runs, even when idle."""
    slots_per_agent: Annotated[int, Minimum(1), Maximum(MAX_SLOTS_PER_AGENT)] = 3
    """Tasks one agent pod runs at once."""
    replicas: Replicas | None = None
    """Set by kubectl scale (the /scale subresource): the pool keeps at least this many
    agents (on top of minReplicas, at most maxReplicas). The autoscaler still adds agents
    for pending claims and never deletes a busy pod to reach it."""
    scale_down_stabilization_seconds: Annotated[int, Minimum(0), Maximum(86400)] = 300
    """A pod is removed only after all its slots stayed idle this long."""
    reservation_ttl_seconds: Annotated[int, Minimum(1)] | None = None
    """A reserved slot not started within this many seconds returns to idle. Unset: a
    reservation waits as long as it takes (e.g. for a person to confirm an apply)."""


@dataclass(kw_only=True, slots=True)
class Slot:
    """One slot of one agent pod."""

    OBJECT_MARKERS: ClassVar[tuple[SchemaMarker, ...]] = (
        Rule(
            "(has(self.state) && self.state != 'Idle') == has(self.task)",
            "a Reserved or Running slot names its task; an Idle slot has none",
            field_path=".task",
        ),
    )

    index: Annotated[int, Minimum(0), Maximum(MAX_SLOTS_PER_AGENT - 1)]
    """Slot number within the pod; the key of the entry."""
    state: SlotState = "Idle"
    """Idle, Reserved (claimed, not started) or Running."""
    task: TaskID | None = None
    """The task holding the slot."""
    since: Time | None = None
    """When the slot entered its state."""
    expires_at: Time | None = None
    """Reserved only: when the reservation returns to idle (spec.reservationTTLSeconds)."""


@dataclass(kw_only=True, slots=True)
class PodSlots:
    """The slots of one agent pod."""

    name: Name
    """Pod name; the key of the entry."""
    uid: Annotated[str, MaxLength(36)] = ""
    """UID of the pod the slots belong to (a recreated pod starts a new entry)."""
    state: PodState = "Starting"
    """What the pool last saw of the pod: Starting (never Ready yet), Ready, NotReady (was
    Ready), Unknown (its node stopped reporting), Failed (ended; its tasks went back to
    pending), Terminating (deleted by someone else), or Removing (chosen by the autoscaler
    for scale-down). Only a Ready pod's idle slots are handed out."""
    slots: Annotated[list[Slot], ListMap(("index",)), MaxItems(MAX_SLOTS_PER_AGENT)] = field(
        default_factory=list
    )
    """One entry per slot."""
    idle_since: Time | None = None
    """When the pod's slots last all became idle; scale-down stabilization counts from here."""


@dataclass(kw_only=True, slots=True)
class PendingClaim:
    """A task waiting for a free slot."""

    task: TaskID
    """The task; the key of the entry."""
    since: Time
    """When the claim was made."""


@dataclass(kw_only=True, slots=True)
class AgentPoolStatus:
    """The slot ledger and the pool's size."""

    observed_generation: Annotated[int, Minimum(0)] | None = None
    """The .metadata.generation the status was computed for."""
    replicas: Count = 0
    """Agent pods the pool owns."""
    ready_replicas: Count = 0
    """Agent pods that are Ready."""
    desired_replicas: Count = 0
    """Agent pods the autoscaler wants."""
    busy_slots: Count = 0
    """Slots reserved or running."""
    idle_slots: Count = 0
    """Slots free."""
    pending_claims: Count = 0
    """Claims waiting for a slot."""
    selector: Annotated[str, MaxLength(1024)] = ""
    """Label selector of the pool's pods (for the /scale subresource)."""
    pods: Annotated[list[PodSlots], ListMap(("name",)), MaxItems(MAX_REPLICAS)] = field(
        default_factory=list
    )
    """The ledger: the slots of each pod."""
    pending: Annotated[list[PendingClaim], ListMap(("task",)), MaxItems(512)] = field(
        default_factory=list
    )
    """Claims waiting for a slot, oldest first."""
    last_scale_time: Time | None = None
    """When the pool last changed size."""
    conditions: Conditions = field(default_factory=list)
    """Ready, ScalingLimited (pending work cannot be placed at maxReplicas), Degraded."""


DEFINITION = KindDefinition(
    kind="AgentPool",
    plural="agentpools",
    short_names=("ap",),
    scope="Namespaced",
    description=(
        "AgentPool runs agent pods that each offer slots for tasks, keeps a durable ledger of "
        "every slot in status, and scales between minReplicas and maxReplicas without ever "
        "deleting a pod that holds a reserved or running slot."
    ),
    spec=AgentPoolSpec,
    status=AgentPoolStatus,
    scale=Scale(
        spec_replicas_path=".spec.replicas",
        status_replicas_path=".status.replicas",
        label_selector_path=".status.selector",
    ),
    printer_columns=(
        PrinterColumn(
            name="Replicas",
            json_path=".status.replicas",
            type="integer",
            description="Agent pods the pool owns.",
        ),
        PrinterColumn(
            name="Ready",
            json_path=".status.readyReplicas",
            type="integer",
            description="Agent pods that are Ready.",
        ),
        PrinterColumn(
            name="Min",
            json_path=".spec.minReplicas",
            type="integer",
            description="Fewest agent pods.",
            priority=1,
        ),
        PrinterColumn(
            name="Max",
            json_path=".spec.maxReplicas",
            type="integer",
            description="Most agent pods.",
        ),
        PrinterColumn(
            name="Busy",
            json_path=".status.busySlots",
            type="integer",
            description="Slots reserved or running.",
        ),
        PrinterColumn(
            name="Idle", json_path=".status.idleSlots", type="integer", description="Slots free."
        ),
        PrinterColumn(
            name="Pending",
            json_path=".status.pendingClaims",
            type="integer",
            description="Claims waiting for a slot.",
        ),
    ),
)


@dataclass(kw_only=True, slots=True)
class AgentPool(Resource):
    """An AgentPool object; ``AgentPool.from_dict(raw)`` at the edge of a reconcile."""

    GVK: ClassVar[GroupVersionKind] = DEFINITION.gvk
    spec: AgentPoolSpec
    metadata: dict[str, Any] = field(default_factory=dict)
    status: AgentPoolStatus = field(default_factory=AgentPoolStatus)
