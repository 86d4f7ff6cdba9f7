"""RestartRecord: the durable restart history of one pod, or the inspection state of a namespace.

The restarts operator keeps everything it must remember here, never only in memory: per
container the restarts counted, counts per reason, restarts nobody saw (``missed``) and a
bounded history; metrics are computed from this status, so they survive operator restarts.
A record is not owned by its pod (it outlives it) and is deleted after a retention period.

One record per inspected namespace (``spec.inspection``) holds the namespace inspection:
the share of pods that restarted in the last window, the anomaly in progress with its root
cause, past anomalies with their recovery, and the silence period, all in status.

Sizes are bounded so the object stays far below the API server's object size limit:
16 containers x 32 history entries, messages cut to 256 characters, 20 past anomalies.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from crds.common import DNS_LABEL, Conditions, Name, Resource, Time
from crds.definition import KindDefinition, PrinterColumn
from crds.markers import (
    JsonName,
    ListMap,
    Maximum,
    MaxItems,
    MaxLength,
    MaxProperties,
    Minimum,
    MinLength,
    Pattern,
    Rule,
    SchemaMarker,
)
from reconcile.gvk import GroupVersionKind

__all__ = [
    "DEFINITION",
    "REASONS",
    "Anomaly",
    "ContainerRestarts",
    "ExitCodeCount",
    "InspectionTarget",
    "NamespaceInspection",
    "OOMKill",
    "Reason",
    "ReasonCount",
    "Restart",
    "RestartRecord",
    "RestartRecordSpec",
    "RestartRecordStatus",
    "Workload",
    "WorkloadRestarts",
]

Reason = Literal[
    "OOMKilled",
    "Error",
    "Completed",
    "LivenessProbe",
    "StartupProbe",
    "Evicted",
    "ContainerCannotRun",
    "DeadlineExceeded",
    "Unknown",
    "Other",
]
REASONS: tuple[str, ...] = typing.get_args(Reason)
"""The bounded set of restart reasons (metric label values never go beyond it)."""

ContainerName = Annotated[str, MinLength(1), MaxLength(63), Pattern(DNS_LABEL)]
UID = Annotated[str, MaxLength(36)]
Count = Annotated[int, Minimum(0)]
Ratio = Annotated[float, Minimum(0), Maximum(1)]
_REASON_KEYS = "[" + ", ".join(f"'{r}'" for r in REASONS) + "]"


@dataclass(kw_only=True, slots=True)
class Workload:
    """The workload that owns the pod, resolved to its top controller."""

    kind: Annotated[str, MinLength(1), MaxLength(63)]
    """Owner kind: Deployment (resolved through its ReplicaSet), StatefulSet, DaemonSet,
    CronJob (resolved through its Job), Job, or the owner's kind as written."""
    name: Name
    """Owner name."""


@dataclass(kw_only=True, slots=True)
class InspectionTarget:
    """Marks the record that holds a namespace's inspection state."""

    cluster_name: Annotated[str, MinLength(1), MaxLength(63)]
    """Cluster name as the inspection config calls it; labels the Event and the metric."""


@dataclass(kw_only=True, slots=True)
class RestartRecordSpec:
    """What the record follows: one pod (podName), or one namespace's inspection."""

    OBJECT_MARKERS: ClassVar[tuple[SchemaMarker, ...]] = (
        Rule(
            "has(self.podName) != has(self.inspection)",
            "set exactly one of podName (a pod's restart record) and inspection "
            "(a namespace inspection record)",
        ),
    )

    pod_name: Name | None = None
    """The pod, in the record's namespace, whose restarts this record keeps."""
    workload: Workload | None = None
    """The pod's workload; the record also carries it as labels."""
    inspection: InspectionTarget | None = None
    """Set on the one record per namespace that holds its restart inspection."""


@dataclass(kw_only=True, slots=True)
class Restart:
    """One restart of a container, as the kubelet reported its terminated state."""

    pod_uid: UID
    """UID of the pod it happened in (a pod recreated under the same name has a new one)."""
    restart_count: Annotated[int, Minimum(1)]
    """The container's restartCount right after this restart; with podUID, the entry's key."""
    reason: Reason
    """Why the container stopped, from the bounded set of reasons."""
    started_at: Time | None = None
    """When the container that stopped had started."""
    finished_at: Time | None = None
    """When it stopped."""
    exit_code: int | None = None
    """Exit code of the stopped container."""
    signal: Annotated[int, Minimum(1), Maximum(127)] | None = None
    """The signal that killed it (exitCode - 128), for exit codes above 128."""
    message: Annotated[str, MaxLength(256)] = ""
    """The start of the termination message."""
    container_id: Annotated[str, MaxLength(96)] = ""
    """ID of the stopped container (runtime://id)."""


@dataclass(kw_only=True, slots=True)
class ContainerRestarts:
    """Restarts of one container of the pod (init and ephemeral containers included)."""

    name: ContainerName
    """Container name; the key of this entry."""
    type: Literal["Init", "Regular", "Ephemeral"] = "Regular"
    """Which list of the pod spec the container is in."""
    restarts: Count = 0
    """Every restart counted for this container, across pod UIDs; never decreases.
    Equals the sum of reasons."""
    reasons: (
        Annotated[
            dict[str, Count],
            MaxProperties(len(REASONS)),
            Rule(
                f"self.all(k, k in {_REASON_KEYS})",
                "keys must be restart reasons: " + ", ".join(REASONS),
            ),
        ]
        | None
    ) = None
    """Restarts counted per reason; missed restarts are counted under Unknown."""
    missed: Count = 0
    """Restarts nobody saw the details of: restartCount jumped by more than one (e.g. while
    the operator was down). Counted in restarts, with no history entry."""
    pod_uid: UID = ""
    """UID of the pod whose restartCount was last observed."""
    restart_count: Count = 0
    """The kubelet's restartCount last observed for podUID."""
    last_restart_time: Time | None = None
    """When the newest restart finished."""
    history: Annotated[list[Restart], ListMap(("podUID", "restartCount")), MaxItems(32)] = field(
        default_factory=list
    )
    """The newest restarts, newest first (the operator keeps 20 by default)."""


@dataclass(kw_only=True, slots=True)
class ReasonCount:
    """How often one reason occurred."""

    reason: Reason
    """The restart reason."""
    count: Count
    """Restarts with that reason."""


@dataclass(kw_only=True, slots=True)
class ExitCodeCount:
    """How often one exit code occurred."""

    exit_code: int
    """The exit code."""
    count: Count
    """Restarts that ended with it."""


@dataclass(kw_only=True, slots=True)
class OOMKill:
    """Containers killed for memory, with the limit they hit."""

    workload: Annotated[str, MaxLength(320)]
    """kind/name of the workload."""
    container: ContainerName
    """Container name."""
    count: Count
    """OOM kills in the window."""
    memory_limit: Annotated[str, MaxLength(32)] = ""
    """The container's memory limit (a quantity, e.g. 512Mi); empty when it has none, so the
    node ran out of memory rather than the container reaching its limit."""


@dataclass(kw_only=True, slots=True)
class WorkloadRestarts:
    """Restarts of one container of one workload."""

    workload: Annotated[str, MaxLength(320)]
    """kind/name of the workload."""
    container: ContainerName
    """Container name."""
    restarts: Count
    """Restarts in the window."""


@dataclass(kw_only=True, slots=True)
class Anomaly:
    """A period in which a namespace restarted abnormally, with its root cause."""

    started_at: Time
    """When the abnormal window began; the key of a history entry."""
    detected_at: Time | None = None
    """When the inspection found it."""
    recovered_at: Time | None = None
    """When the namespace was back to normal; unset while the anomaly lasts."""
    duration_seconds: Count | None = None
    """recoveredAt - startedAt, in seconds."""
    ratio: Ratio = 0.0
    """Share of the namespace's pods that restarted in the window, when detected."""
    previous_ratio: Ratio = 0.0
    """The same share in the window before."""
    pods_restarted: Count = 0
    """Pods that restarted in the window."""
    pods_total: Count = 0
    """Pods in the namespace."""
    top_reasons: Annotated[list[ReasonCount], ListMap(("reason",)), MaxItems(10)] = field(
        default_factory=list
    )
    """The most frequent reasons, most frequent first."""
    exit_codes: Annotated[list[ExitCodeCount], ListMap(("exitCode",)), MaxItems(10)] = field(
        default_factory=list
    )
    """The most frequent exit codes."""
    oom_killed: Annotated[list[OOMKill], MaxItems(10)] = field(default_factory=list)
    """Containers killed for memory, with their limits."""
    workloads: Annotated[list[WorkloadRestarts], MaxItems(10)] = field(default_factory=list)
    """The workloads and containers that restarted most."""
    summary: Annotated[str, MaxLength(1024)] = ""
    """The root cause in one paragraph (also the Warning Event's message)."""


@dataclass(kw_only=True, slots=True)
class NamespaceInspection:
    """The restart inspection of the record's namespace."""

    state: Literal["Normal", "Abnormal"] = "Normal"
    """Abnormal while an anomaly lasts."""
    last_inspected_at: Time | None = None
    """When the inspection last ran."""
    window_seconds: Annotated[int, Minimum(1)] | None = None
    """Length of the window the ratios are computed over."""
    ratio: Ratio = 0.0
    """Share of pods that restarted in the last window."""
    previous_ratio: Ratio = 0.0
    """The same share in the window before."""
    pods_restarted: Count = 0
    """Pods that restarted in the last window."""
    pods_total: Count = 0
    """Pods in the namespace."""
    silenced_until: Time | None = None
    """No new Warning Event for this namespace before this time."""
    last_event_at: Time | None = None
    """When the last Warning Event was sent."""
    current: Anomaly | None = None
    """The anomaly in progress, if any."""
    history: Annotated[list[Anomaly], ListMap(("startedAt",)), MaxItems(20)] = field(
        default_factory=list
    )
    """Past anomalies with their recovery, newest first."""


@dataclass(kw_only=True, slots=True)
class RestartRecordStatus:
    """What the operator observed; written only by the operator."""

    pod_uid: UID | None = None
    """UID of the pod currently carrying podName."""
    previous_pod_uids: Annotated[list[UID], MaxItems(8), JsonName("previousPodUIDs")] = field(
        default_factory=list
    )
    """UIDs of the earlier pods that carried podName, newest first. A late view of one of
    them (a lagging cache) is ignored, so a recreated pod never recounts its predecessor."""
    pod_deleted_at: Time | None = None
    """When the pod was seen gone; the record is deleted a retention period later."""
    restarts: Count = 0
    """Restarts counted over all containers; never decreases."""
    missed: Count = 0
    """Restarts counted without details over all containers."""
    last_restart_time: Time | None = None
    """When the newest restart finished."""
    last_reason: Reason | None = None
    """Reason of the newest restart."""
    containers: Annotated[list[ContainerRestarts], ListMap(("name",)), MaxItems(16)] = field(
        default_factory=list
    )
    """Per container: counts and history."""
    inspection: NamespaceInspection | None = None
    """The namespace inspection (on an inspection record only)."""
    observed_generation: Annotated[int, Minimum(0)] | None = None
    """The .metadata.generation the status was computed for."""
    conditions: Conditions = field(default_factory=list)
    """Current state of the record."""


DEFINITION = KindDefinition(
    kind="RestartRecord",
    plural="restartrecords",
    short_names=("rr",),
    scope="Namespaced",
    description=(
        "RestartRecord keeps the restart history of one pod (it outlives the pod), or the "
        "restart inspection state of one namespace. The restarts operator writes it; "
        "metrics are computed from its status, so they survive operator restarts."
    ),
    spec=RestartRecordSpec,
    status=RestartRecordStatus,
    printer_columns=(
        PrinterColumn(
            name="Pod", json_path=".spec.podName", type="string", description="The pod followed."
        ),
        PrinterColumn(
            name="Workload",
            json_path=".spec.workload.name",
            type="string",
            description="The pod's workload.",
            priority=1,
        ),
        PrinterColumn(
            name="Restarts",
            json_path=".status.restarts",
            type="integer",
            description="Restarts counted over all containers.",
        ),
        PrinterColumn(
            name="Missed",
            json_path=".status.missed",
            type="integer",
            description="Restarts counted without details.",
        ),
        PrinterColumn(
            name="Last Reason",
            json_path=".status.lastReason",
            type="string",
            description="Reason of the newest restart.",
        ),
        PrinterColumn(
            name="Last Restart",
            json_path=".status.lastRestartTime",
            type="date",
            description="When the newest restart finished.",
        ),
        PrinterColumn(
            name="Inspection",
            json_path=".status.inspection.state",
            type="string",
            description="Namespace inspection state (inspection records).",
            priority=1,
        ),
    ),
)


@dataclass(kw_only=True, slots=True)
class RestartRecord(Resource):
    """A RestartRecord object; ``RestartRecord.from_dict(raw)`` at the edge of a reconcile."""

    GVK: ClassVar[GroupVersionKind] = DEFINITION.gvk
    spec: RestartRecordSpec
    metadata: dict[str, Any] = field(default_factory=dict)
    status: RestartRecordStatus = field(default_factory=RestartRecordStatus)
