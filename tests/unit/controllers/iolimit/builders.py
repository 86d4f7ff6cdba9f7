"""Raw objects for the IOLimitPolicy tests: pods with running containers, policies, reports."""

from __future__ import annotations

from typing import Any

NOW = 1_800_000_000.0
"""A fixed wall-clock moment (2027-01-15T08:00:00Z)."""
STAMP = "2027-01-15T08:00:00Z"
EARLIER = "2027-01-15T07:00:00Z"


def cid(seed: str) -> str:
    return "containerd://" + (seed * 64)[:64]


def pod(
    name: str,
    *,
    namespace: str = "batch",
    labels: dict[str, str] | None = None,
    node: str = "node-1",
    uid: str | None = None,
    containers: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    created: str = EARLIER,
    started: str = EARLIER,
) -> dict[str, Any]:
    """A running pod; ``containers`` maps container name -> container ID."""
    containers = containers if containers is not None else {"app": cid(name[0])}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{name}",
            "labels": labels if labels is not None else {"app": "worker"},
            "annotations": annotations or {},
            "creationTimestamp": created,
        },
        "spec": {"nodeName": node, "containers": [{"name": c} for c in containers]},
        "status": {
            "phase": "Running",
            "qosClass": "BestEffort",
            "containerStatuses": [
                {"name": c, "containerID": i, "state": {"running": {"startedAt": started}}}
                for c, i in containers.items()
            ],
        },
    }


def rule(
    name: str = "heavy",
    window: str = "15m",
    *,
    above: int = 100,
    metric: str = "WriteIOPS",
    priority: int = 0,
    **limits: int,
) -> dict[str, Any]:
    return {
        "name": name,
        "window": window,
        "thresholds": [{"metric": metric, "above": above}],
        "limits": limits or {"writeIOPS": 50},
        "priority": priority,
    }


def spec(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": {"app": "worker"}},
        "namespaces": ["batch"],
        "rules": list(rules) or [rule()],
        "recovery": {"belowRatio": 0.8, "delaySeconds": 60},
        **extra,
    }


def policy(
    name: str = "p",
    *rules: dict[str, Any],
    status: dict[str, Any] | None = None,
    created: str = EARLIER,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "IOLimitPolicy",
        "metadata": {
            "name": name,
            "generation": 1,
            "uid": f"uid-{name}",
            "creationTimestamp": created,
            "resourceVersion": "1",
        },
        "spec": spec(*rules, **extra),
        "status": status or {},
    }


def proposal(
    container_id: str,
    action: str = "Throttle",
    rule_name: str = "heavy",
    *,
    reason: str = "15m window [WriteIOPS:222]",
    at: str = STAMP,
) -> dict[str, Any]:
    return {
        "containerID": container_id,
        "action": action,
        "rule": rule_name,
        "window": "15m",
        "reason": reason,
        "observedAt": at,
    }


def report(
    node: str = "node-1",
    *,
    proposals: list[dict[str, Any]] | None = None,
    applied: list[str] | None = None,
    ready: bool = True,
    message: str = "",
    at: str = STAMP,
) -> dict[str, Any]:
    return {
        "node": node,
        "reportedAt": at,
        "containers": 1,
        "applied": [{"containerID": c, "devices": ["8:0"]} for c in applied or []],
        "proposals": proposals or [],
        "ready": ready,
        "message": message,
    }


def throttle(
    pod_name: str = "w1",
    container: str = "app",
    *,
    rule_name: str = "heavy",
    container_id: str | None = None,
    origin: str = "Policy",
    node: str = "node-1",
    limits: dict[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "namespace": "batch",
        "pod": pod_name,
        "container": container,
        "podUID": f"uid-{pod_name}",
        "containerID": container_id or cid(pod_name[0]),
        "node": node,
        "rule": rule_name,
        "window": "15m",
        "limits": limits or {"writeIOPS": 50},
        "reason": "15m window [WriteIOPS:222]",
        "since": EARLIER,
        "dryRun": False,
        "origin": origin,
        **extra,
    }
