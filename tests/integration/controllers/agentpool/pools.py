"""Building AgentPools and reading their ledgers in tests."""

from __future__ import annotations

import threading
import time
from typing import Any

from controllers.agentpool.pods import POD, POOL_LABEL
from crds import AgentPool
from reconcile.client import Client
from tests.waiting import wait_for

TEMPLATE = {
    "metadata": {"labels": {"app.kubernetes.io/name": "ci-agent"}},
    "spec": {
        "containers": [
            {
                "name": "agent",
                "image": "busybox:1.36",
                "command": ["sh", "-c", "while true; do sleep 3600; done"],
            }
        ]
    },
}


def pool_manifest(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """An AgentPool with a realistic template; ``spec`` fields as the API spells them."""
    return {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "AgentPool",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": TEMPLATE, "maxReplicas": 5, **spec},
    }


def status(client: Client, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(AgentPool, name, namespace).get("status") or {}
    return found


def ready_pods(client: Client, namespace: str, name: str) -> list[str]:
    """Names of the pods the ledger records as Ready."""
    return [
        e["name"]
        for e in status(client, namespace, name).get("pods") or []
        if e.get("state") == "Ready"
    ]


def wait_ready(client: Client, namespace: str, name: str, count: int, timeout: float = 30) -> None:
    wait_for(
        lambda: len(ready_pods(client, namespace, name)) == count,
        timeout=timeout,
        what=f"{count} Ready pods in the ledger of {namespace}/{name}",
    )


def pod_uids(client: Client, namespace: str, name: str) -> dict[str, str]:
    """{pod name: uid} of the pool's live pods."""
    pods = client.list(POD, namespace=namespace, label_selector={POOL_LABEL: name})["items"]
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods}


def busy(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """{pod: its slots} of the ledger pods holding a reserved or running slot."""
    return {
        e["name"]: e["slots"]
        for e in entries
        if any(s.get("state") in ("Reserved", "Running") for s in e["slots"])
    }


class PodDeletions:
    """Follows a namespace's pods: when each one was deleted, and its last state."""

    def __init__(self, client: Client, namespace: str) -> None:
        self.deleted: dict[str, tuple[float, dict[str, Any]]] = {}
        self._stream = client.watch(POD, namespace=namespace, timeout_seconds=120)
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            for event in self._stream:
                if event.get("type") == "DELETED":
                    pod = event["object"]
                    self.deleted[pod["metadata"]["name"]] = (time.time(), pod)
        except Exception:
            return

    def close(self) -> None:
        self._stream.close()
        self._thread.join(5)
