"""Which URL serves a kind: discovery-backed GroupVersionKind -> resource mapping.

Discovery is read lazily per group version and cached. A miss re-reads discovery (at most
once per ``refresh_interval`` seconds) so a CRD installed after start is found, then fails
with ``NoKindMatch``, whose message says to install the CRD.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from reconcile.client.transport import Transport
from reconcile.errors import KreconcileError, NotFound
from reconcile.gvk import GroupVersionKind

__all__ = ["NoKindMatch", "RESTMapper", "RESTMapping"]


class NoKindMatch(KreconcileError):
    """No served resource has this kind: its CRD is not installed, or the version is wrong."""


@dataclass(frozen=True, slots=True)
class RESTMapping:
    gvk: GroupVersionKind
    resource: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str = "", subresource: str = "") -> str:
        """URL path for a collection (no name) or an object."""
        prefix = (
            f"/apis/{self.gvk.group}/{self.gvk.version}"
            if self.gvk.group
            else f"/api/{self.gvk.version}"
        )
        if self.namespaced and namespace:
            prefix += f"/namespaces/{namespace}"
        path = f"{prefix}/{self.resource}"
        if name:
            path += f"/{name}"
        if subresource:
            path += f"/{subresource}"
        return path


class RESTMapper:
    """Thread-safe, lazily filled discovery cache."""

    def __init__(self, transport: Transport, *, refresh_interval: float = 1.0) -> None:
        self._transport = transport
        self._refresh_interval = refresh_interval
        self._mappings: dict[GroupVersionKind, RESTMapping] = {}
        self._fetched: dict[str, float] = {}
        self._lock = threading.Lock()
        self._discovery = threading.Lock()

    def mapping(self, gvk: GroupVersionKind) -> RESTMapping:
        with self._lock:
            found = self._mappings.get(gvk)
        if found is not None:
            return found
        with self._discovery:
            with self._lock:
                found = self._mappings.get(gvk)
            if found is None:
                self._discover(gvk)
                with self._lock:
                    found = self._mappings.get(gvk)
        if found is None:
            raise NoKindMatch(
                f'no matches for kind "{gvk.kind}" in version "{gvk.api_version}": the API server '
                "does not serve it; install its CustomResourceDefinition first (for kreconcile's "
                "own kinds: kubectl apply -k config/crd)"
            )
        return found

    def _discover(self, gvk: GroupVersionKind) -> None:
        group_version = gvk.api_version
        now = time.monotonic()
        with self._lock:
            last = self._fetched.get(group_version)
            if last is not None and now - last < self._refresh_interval:
                return
            self._fetched[group_version] = now
        path = f"/apis/{group_version}" if gvk.group else f"/api/{gvk.version}"
        try:
            listing = self._transport.request("GET", path).body
        except NotFound:
            return
        mappings = {}
        for resource in listing.get("resources", []):
            if "/" in resource["name"]:
                continue
            kind = GroupVersionKind(gvk.group, gvk.version, resource["kind"])
            mappings[kind] = RESTMapping(kind, resource["name"], bool(resource["namespaced"]))
        with self._lock:
            self._mappings.update(mappings)
