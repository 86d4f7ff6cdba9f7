"""Typed API objects at the edge: what converting from and to raw dicts costs.

Builds an AgentPool whose ledger holds P pods x 3 slots (half of them busy), then measures
``AgentPool.from_dict`` and ``to_dict`` against ``json.loads`` of the same object (the cost
the client already pays), and reports the ledger's size in bytes and the pod count at which
a ledger of this shape would reach the 1.5 MiB object limit.

    .venv/bin/python bench/api_types.py [--pods P] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from crds import AgentPool

OBJECT_LIMIT = 1_572_864


def _pool(pods: int) -> dict[str, Any]:
    since = "2026-11-24T02:45:54Z"
    ledger = []
    for p in range(pods):
        slots: list[dict[str, Any]] = [{"index": 0, "state": "Idle"}]
        slots.append({"index": 1, "state": "Reserved", "task": f"task-{p}-1", "since": since,
                      "expiresAt": "2026-11-24T03:45:54Z"})  # fmt: skip
        slots.append({"index": 2, "state": "Running", "task": f"task-{p}-2", "since": since})
        ledger.append({"name": f"ci-agents-{p}", "uid": f"{p:08d}-aaaa-bbbb-cccc-dddddddddddd",
                       "slots": slots})  # fmt: skip
    return {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "AgentPool",
        "metadata": {"name": "ci-agents", "namespace": "default", "resourceVersion": "1"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "agent", "image": "busybox"}]}},
            "maxReplicas": 200,
            "minReplicas": 1,
            "slotsPerAgent": 3,
        },
        "status": {"replicas": pods, "pods": ledger, "selector": "app=ci-agents"},
    }


def _rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        fn()
        calls += 1
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    raw = _pool(args.pods)
    text = json.dumps(raw)
    typed = AgentPool.from_dict(raw)
    assert AgentPool.from_dict(typed.to_dict()) == typed
    per_pod = len(json.dumps(raw["status"]["pods"])) / args.pods
    figures = {
        "pods": args.pods,
        "object_bytes": len(text),
        "ledger_bytes": len(json.dumps(raw["status"]["pods"])),
        "pods_at_object_limit": int((OBJECT_LIMIT - len(text)) / per_pod) + args.pods,
        "json_loads_per_s": round(_rate(lambda: json.loads(text), args.seconds), 1),
        "from_dict_per_s": round(_rate(lambda: AgentPool.from_dict(raw), args.seconds), 1),
        "to_dict_per_s": round(_rate(typed.to_dict, args.seconds), 1),
    }
    figures["from_dict_vs_json_loads"] = round(
        figures["json_loads_per_s"] / figures["from_dict_per_s"], 2
    )
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
