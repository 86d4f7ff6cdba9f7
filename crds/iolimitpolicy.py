"""IOLimitPolicy: which pods get disk-IO limits when, and the throttles in force.

Cluster-scoped: a policy selects pods by namespace and labels across the cluster. Spec rules
name a window (15m, 30m or 60m), thresholds on the window's average IOPS/BPS (absolute, or a
fraction of the device's declared capacity) and the limits to write into the container's
cgroup when they are crossed; recovery is hysteresis (below a ratio of the threshold for a
delay). The throttle decisions live in status, never in pod annotations or process memory:
the central controller owns ``throttles``/``removed``/conditions, and each node agent owns its
own entry of ``nodes`` (a list map keyed by node, so agents never overwrite each other).
The agents measure and the controller decides: an agent whose containers cross a rule's
threshold (or recover) says so in its entry's ``proposals``, and the controller turns each
proposal into a throttle decision (or a release), which the agents then enforce.

Bounds keep the object under the API server's size limit: 200 active throttles, the 50 most
recent removals, 64 node reports of 32 applied containers and 4 pending proposals each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from crds.common import (
    DNS_LABEL,
    Conditions,
    LabelSelector,
    Name,
    Resource,
    Time,
)
from crds.definition import KindDefinition, PrinterColumn
from crds.markers import (
    ListMap,
    ListSet,
    Maximum,
    MaxItems,
    MaxLength,
    Minimum,
    MinItems,
    MinLength,
    Pattern,
    Rule,
    SchemaMarker,
)
from reconcile.gvk import GroupVersionKind

__all__ = [
    "DEFINITION",
    "AppliedThrottle",
    "DeviceCapacity",
    "IOLimitPolicy",
    "IOLimitPolicySpec",
    "IOLimitPolicyStatus",
    "IOLimits",
    "IORule",
    "Metric",
    "NodeReport",
    "Proposal",
    "Recovery",
    "RemovedThrottle",
    "Threshold",
    "Throttle",
    "Window",
]

Window = Literal["15m", "30m", "60m"]
Metric = Literal["ReadIOPS", "WriteIOPS", "ReadBPS", "WriteBPS"]

NamespaceName = Annotated[str, MinLength(1), MaxLength(63), Pattern(DNS_LABEL)]
ContainerName = Annotated[str, MinLength(1), MaxLength(63), Pattern(DNS_LABEL)]
ContainerID = Annotated[str, MaxLength(96)]
RuleName = Annotated[str, MinLength(1), MaxLength(63), Pattern(DNS_LABEL)]
Rate = Annotated[int, Minimum(1)]


@dataclass(kw_only=True, slots=True)
class IOLimits:
    """Limits written to the container's cgroup (io.max on v2, blkio.throttle.* on v1)."""

    OBJECT_MARKERS: ClassVar[tuple[SchemaMarker, ...]] = (
        Rule(
            "has(self.readIOPS) || has(self.writeIOPS) || has(self.readBPS) || has(self.writeBPS)",
            "set at least one of readIOPS, writeIOPS, readBPS, writeBPS",
        ),
    )

    read_iops: Rate | None = None
    """Read operations per second."""
    write_iops: Rate | None = None
    """Write operations per second."""
    read_bps: Rate | None = None
    """Read bytes per second."""
    write_bps: Rate | None = None
    """Write bytes per second."""


@dataclass(kw_only=True, slots=True)
class Threshold:
    """A level of one metric's window average; crossing it triggers the rule."""

    OBJECT_MARKERS: ClassVar[tuple[SchemaMarker, ...]] = (
        Rule(
            "has(self.above) != has(self.fractionOfCapacity)",
            "set exactly one of above (absolute) and fractionOfCapacity",
        ),
    )

    metric: Metric
    """What is measured: read/write operations or bytes per second."""
    above: Annotated[int, Minimum(0)] | None = None
    """Absolute level: operations or bytes per second."""
    fraction_of_capacity: Annotated[float, Minimum(0, exclusive=True), Maximum(1)] | None = None
    """Level as a fraction of the device's declared capacity (spec.deviceCapacity), as in
    the reason "15m window [ReadIOPS:0.65]"."""


@dataclass(kw_only=True, slots=True)
class IORule:
    """When a container's IO over a window crosses any threshold, these limits apply."""

    name: RuleName
    """Rule name; the key of the list and the name throttles refer to."""
    window: Window
    """The window the averages are taken over: 15m, 30m or 60m."""
    thresholds: Annotated[list[Threshold], ListMap(("metric",)), MinItems(1), MaxItems(4)]
    """The rule triggers when any of these is crossed."""
    limits: IOLimits
    """The limits to apply while the rule is triggered."""
    priority: Annotated[int, Minimum(0), Maximum(1000)] = 0
    """When several rules trigger for one container the highest priority wins; on a tie,
    the rule with the lowest limits (the most severe)."""


@dataclass(kw_only=True, slots=True)
class DeviceCapacity:
    """What the backing device can do; fractionOfCapacity thresholds are fractions of it."""

    read_iops: Rate | None = None
    """Read operations per second."""
    write_iops: Rate | None = None
    """Write operations per second."""
    read_bps: Rate | None = None
    """Read bytes per second."""
    write_bps: Rate | None = None
    """Write bytes per second."""


@dataclass(kw_only=True, slots=True)
class Recovery:
    """When a throttle is removed: IO below a ratio of the threshold for a delay (no flapping)."""

    below_ratio: Annotated[float, Minimum(0, exclusive=True), Maximum(1)] = 0.8
    """The container's average must stay below this fraction of the triggering threshold."""
    delay_seconds: Annotated[int, Minimum(0), Maximum(86400)] = 600
    """For this many seconds before the throttle is removed."""


@dataclass(kw_only=True, slots=True)
class IOLimitPolicySpec:
    """Which pods are watched, the rules that throttle them, and how they recover."""

    OBJECT_MARKERS: ClassVar[tuple[SchemaMarker, ...]] = (
        Rule(
            "(has(self.namespaces) && size(self.namespaces) > 0)"
            " || (has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0)"
            " || (has(self.selector.matchExpressions)"
            " && size(self.selector.matchExpressions) > 0)",
            "an empty selector selects every pod of every namespace: give matchLabels or "
            "matchExpressions, or list the namespaces the policy applies to",
            field_path=".selector",
        ),
        Rule(
            "has(self.deviceCapacity)"
            " || self.rules.all(r, r.thresholds.all(t, !has(t.fractionOfCapacity)))",
            "fractionOfCapacity thresholds need spec.deviceCapacity",
            field_path=".rules",
        ),
    )

    selector: LabelSelector
    """Pods the policy applies to, by labels."""
    rules: Annotated[list[IORule], ListMap(("name",)), MinItems(1), MaxItems(16)]
    """Throttling rules."""
    namespaces: Annotated[list[NamespaceName], ListSet(), MaxItems(64)] = field(
        default_factory=list
    )
    """Namespaces whose pods are considered; empty means every namespace not excluded."""
    excluded_namespaces: Annotated[list[NamespaceName], ListSet(), MaxItems(64)] = field(
        default_factory=lambda: ["kube-system"]
    )
    """Namespaces never throttled, even when listed in namespaces."""
    device_capacity: DeviceCapacity | None = None
    """Declared device capacity, for fractionOfCapacity thresholds."""
    recovery: Recovery = field(default_factory=Recovery)
    """When a throttle is lifted."""
    dry_run: bool = False
    """Record throttle decisions in status without writing any cgroup file."""


@dataclass(kw_only=True, slots=True)
class Throttle:
    """A throttle decision on one container."""

    namespace: NamespaceName
    """Namespace of the pod."""
    pod: Name
    """Pod name."""
    container: ContainerName
    """Container name."""
    pod_uid: Annotated[str, MaxLength(36)] = ""
    """UID of the pod when the throttle was decided."""
    container_id: ContainerID = ""
    """The container the limits belong to (runtime://id); a recreated container gets the
    same limits under its new ID."""
    node: Annotated[str, MaxLength(253)] = ""
    """Node the pod runs on."""
    rule: Annotated[str, MaxLength(63)] = ""
    """The rule that triggered."""
    window: Window | None = None
    """The rule's window."""
    limits: IOLimits | None = None
    """The limits applied."""
    reason: Annotated[str, MaxLength(256)] = ""
    """What crossed which threshold, e.g. "15m window [ReadIOPS:0.65]"."""
    since: Time | None = None
    """When the throttle was decided."""
    dry_run: bool = False
    """Recorded only: the policy is in dry-run and nothing was written."""
    origin: Literal["Policy", "Migrated"] = "Policy"
    """Migrated: imported from the annotations of the service this operator replaces."""


@dataclass(kw_only=True, slots=True)
class RemovedThrottle(Throttle):
    """A throttle that was lifted, kept for a while for the record."""

    removed_at: Time | None = None
    """When it was lifted."""
    removed_reason: Annotated[str, MaxLength(256)] = ""
    """Why: recovered, pod deleted, policy changed, ..."""


@dataclass(kw_only=True, slots=True)
class AppliedThrottle:
    """A throttle the node agent has written to (or found in) a container's cgroup."""

    container_id: ContainerID
    """The container whose cgroup holds the limits; the key of the entry."""
    devices: Annotated[list[Annotated[str, MaxLength(16), Pattern(r"^\d+:\d+$")]], MaxItems(4)] = (
        field(default_factory=list)
    )
    """The block devices (MAJ:MIN) the limits were written for."""


@dataclass(kw_only=True, slots=True)
class Proposal:
    """What a node agent measured and asks the controller to decide: throttle or release.

    The agent holds the IO windows, the controller owns the decisions: a proposal stays in
    the agent's report until the controller's decision (a throttle with this rule, or its
    removal) shows in status, so a restart of either side loses none.
    """

    container_id: ContainerID
    """The container measured (runtime://id); the key of the entry."""
    action: Literal["Throttle", "Release"]
    """Throttle: the rule's threshold was crossed. Release: the container's IO stayed below
    the recovery ratio of the rule's thresholds for the recovery delay."""
    rule: RuleName
    """The rule that triggered, or whose throttle may be lifted."""
    window: Window | None = None
    """The rule's window."""
    reason: Annotated[str, MaxLength(128)] = ""
    """What was measured, e.g. "15m window [ReadIOPS:0.65]"."""
    observed_at: Time | None = None
    """When the agent's sample showed it; a throttle decided from it starts then."""


@dataclass(kw_only=True, slots=True)
class NodeReport:
    """One node agent's report; each agent writes only its own entry."""

    node: Annotated[str, MinLength(1), MaxLength(253)]
    """Node name; the key of the entry."""
    reported_at: Time | None = None
    """When the agent last reported."""
    cgroup_version: Literal["v1", "v2"] | None = None
    """The node's cgroup hierarchy."""
    containers: Annotated[int, Minimum(0)] = 0
    """Containers of selected pods the agent samples on this node."""
    applied: Annotated[list[AppliedThrottle], ListMap(("containerID",)), MaxItems(32)] = field(
        default_factory=list
    )
    """Throttles in force on this node."""
    proposals: Annotated[list[Proposal], ListMap(("containerID",)), MaxItems(4)] = field(
        default_factory=list
    )
    """Decisions the agent asks for; more wait until the controller has taken these."""
    ready: bool = False
    """The agent samples and applies without errors."""
    message: Annotated[str, MaxLength(512)] = ""
    """The last error, when not ready."""


@dataclass(kw_only=True, slots=True)
class IOLimitPolicyStatus:
    """Throttle decisions and node reports."""

    observed_generation: Annotated[int, Minimum(0)] | None = None
    """The .metadata.generation the status was computed for."""
    selected_pods: Annotated[int, Minimum(0)] = 0
    """Pods the policy currently selects."""
    active_throttles: Annotated[int, Minimum(0)] = 0
    """Number of entries in throttles."""
    throttles: Annotated[
        list[Throttle], ListMap(("namespace", "pod", "container")), MaxItems(200)
    ] = field(default_factory=list)
    """Throttles in force (or recorded, in dry-run)."""
    removed: Annotated[list[RemovedThrottle], MaxItems(50)] = field(default_factory=list)
    """Recently lifted throttles, newest first."""
    nodes: Annotated[list[NodeReport], ListMap(("node",)), MaxItems(64)] = field(
        default_factory=list
    )
    """Reports of the node agents whose nodes run selected pods."""
    conditions: Conditions = field(default_factory=list)
    """Ready, Throttling, and Degraded (naming the nodes whose agents fail)."""


DEFINITION = KindDefinition(
    kind="IOLimitPolicy",
    plural="iolimitpolicies",
    short_names=("iolp",),
    scope="Cluster",
    description=(
        "IOLimitPolicy throttles the disk IO of selected containers when their average IO "
        "over a window crosses a threshold, and lifts the limits when it recovers. Decisions "
        "live in status; node agents apply them to the containers' cgroups."
    ),
    spec=IOLimitPolicySpec,
    status=IOLimitPolicyStatus,
    printer_columns=(
        PrinterColumn(
            name="Selected",
            json_path=".status.selectedPods",
            type="integer",
            description="Pods the policy selects.",
        ),
        PrinterColumn(
            name="Throttled",
            json_path=".status.activeThrottles",
            type="integer",
            description="Containers throttled now.",
        ),
        PrinterColumn(
            name="Dry Run",
            json_path=".spec.dryRun",
            type="boolean",
            description="Decisions recorded without applying limits.",
        ),
        PrinterColumn(
            name="Ready",
            json_path='.status.conditions[?(@.type=="Ready")].status',
            type="string",
            description="Whether the policy is in force on every node.",
        ),
    ),
)


@dataclass(kw_only=True, slots=True)
class IOLimitPolicy(Resource):
    """An IOLimitPolicy object; ``IOLimitPolicy.from_dict(raw)`` at the edge of a reconcile."""

    GVK: ClassVar[GroupVersionKind] = DEFINITION.gvk
    spec: IOLimitPolicySpec
    metadata: dict[str, Any] = field(default_factory=dict)
    status: IOLimitPolicyStatus = field(default_factory=IOLimitPolicyStatus)
