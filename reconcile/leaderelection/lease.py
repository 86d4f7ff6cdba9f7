"""The ``coordination.k8s.io/v1`` Lease as a leader-election lock.

A ``LeaderElectionRecord`` is what every replica reads and compares; ``LeaseLock`` turns it
into Lease ``spec`` fields and back, and performs the get/create/update calls whose
optimistic concurrency (resourceVersion) makes the lock safe: two replicas that both think
the lease is free both try to update the version they read, and the API server lets one win.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from reconcile.gvk import GroupVersionKind
from reconcile.timestamps import micro_time

__all__ = ["LEASE", "LeaderElectionRecord", "LeaseLock", "LockClient", "format_micro_time"]

LEASE = GroupVersionKind("coordination.k8s.io", "v1", "Lease")


class LockClient(Protocol):
    """The three calls the lock needs; any kreconcile client (direct, not cached) has them."""

    def get(
        self, kind: GroupVersionKind, name: str, namespace: str | None = None
    ) -> dict[str, Any]: ...

    def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    def update(self, obj: dict[str, Any]) -> dict[str, Any]: ...


def format_micro_time(moment: dt.datetime) -> str:
    """metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits."""
    return micro_time(moment)


@dataclass(frozen=True, slots=True)
class LeaderElectionRecord:
    """The holder and timing written in the Lease; compared whole to detect renewals."""

    holder_identity: str
    lease_duration_seconds: int
    acquire_time: str
    renew_time: str
    leader_transitions: int

    @classmethod
    def from_lease(cls, lease: dict[str, Any]) -> LeaderElectionRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder_identity=str(spec.get("holderIdentity") or ""),
            lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=str(spec.get("acquireTime") or ""),
            renew_time=str(spec.get("renewTime") or ""),
            leader_transitions=int(spec.get("leaseTransitions") or 0),
        )

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "holderIdentity": self.holder_identity,
            "leaseDurationSeconds": self.lease_duration_seconds,
            "leaseTransitions": self.leader_transitions,
        }
        if self.acquire_time:
            spec["acquireTime"] = self.acquire_time
        if self.renew_time:
            spec["renewTime"] = self.renew_time
        return spec


class LeaseLock:
    """Reads and writes one Lease; remembers the last object read for the next update."""

    def __init__(self, client: LockClient, *, name: str, namespace: str) -> None:
        self._client = client
        self.name = name
        self.namespace = namespace
        self._lease: dict[str, Any] | None = None

    def describe(self) -> str:
        """``namespace/name``, for logs and messages."""
        return f"{self.namespace}/{self.name}"

    def get(self) -> LeaderElectionRecord:
        """Read the Lease; raises NotFound when nobody created it yet."""
        self._lease = self._client.get(LEASE, self.name, self.namespace)
        return LeaderElectionRecord.from_lease(self._lease)

    def create(self, record: LeaderElectionRecord) -> None:
        """Create the Lease holding ``record``; raises AlreadyExists if another replica won."""
        self._lease = self._client.create(
            {
                "apiVersion": LEASE.api_version,
                "kind": LEASE.kind,
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": record.to_spec(),
            }
        )

    def update(self, record: LeaderElectionRecord) -> None:
        """Write ``record`` over the version last read; raises Conflict if it changed since."""
        if self._lease is None:
            raise RuntimeError("LeaseLock.update before get or create: read the Lease first")
        lease = dict(self._lease)
        lease["spec"] = record.to_spec()
        self._lease = self._client.update(lease)
