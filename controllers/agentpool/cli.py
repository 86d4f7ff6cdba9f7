"""``kreconcile slots claim|start|release|list POOL``: the claim API from a shell.

    kreconcile slots claim ci-agents --task build-42 [--wait 600]
    kreconcile slots start ci-agents --task build-42 [--pod ci-agents-0]
    kreconcile slots release ci-agents --task build-42
    kreconcile slots list ci-agents [--pod ci-agents-0]

``-n/--namespace`` defaults as kubectl's does: the kubeconfig context's namespace, in a pod
its own namespace, else ``default``. ``-o json`` prints one JSON object per command.

An agent inside a pod reports its slots with ``start``/``release --pod $HOSTNAME`` (a
pod's hostname is its name): the ledger refuses a report about another pod's slot.

Exit codes: 0 done (``claim``: a slot is reserved); 3 ``claim`` left the task pending
(claim again later, or use ``--wait``); 1 the operation failed (the message says why);
2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from controllers.agentpool.ledger import LedgerError, Pending, Placement, SlotRef
from reconcile.errors import ApiError

__all__ = ["EXIT_PENDING", "add_arguments", "default_namespace", "run"]

EXIT_PENDING = 3
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: as kubectl)")
    parser.add_argument("-n", "--namespace", default=None, help="the pool's namespace")
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="output format"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    claim = actions.add_parser("claim", help="reserve a slot for a task, or queue the claim")
    start = actions.add_parser("start", help="turn a task's reserved slot into a running one")
    release = actions.add_parser("release", help="free a task's slot or drop its pending claim")
    listing = actions.add_parser("list", help="show the pool's slots and pending claims")
    for action in (claim, start, release, listing):
        action.add_argument("pool", metavar="POOL", help="the AgentPool's name")
    for action in (claim, start, release):
        action.add_argument("--task", required=True, help="the task id (1-64 characters)")
    for action in (start, release, listing):
        action.add_argument(
            "--pod", default=None, help="only this pod's slots (an agent reporting its own)"
        )
    claim.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if the claim is pending, wait up to this long for a slot",
    )


def default_namespace(
    kubeconfig: str | None, service_account: Path = SERVICE_ACCOUNT_NAMESPACE
) -> str:
    """kubectl's default: the context's namespace, a pod's own, else ``default``."""
    from kubernetes import config as k8s_config

    try:
        _, current = k8s_config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        namespace = (current or {}).get("context", {}).get("namespace")
        if namespace:
            return str(namespace)
    except Exception:  # no kubeconfig: in a pod, or nothing configured
        pass
    try:
        return service_account.read_text().strip() or "default"
    except OSError:
        return "default"


def _placement(placement: Placement | None) -> dict[str, Any]:
    if isinstance(placement, SlotRef):
        return {"pod": placement.pod, "slot": placement.index, "state": placement.state}
    if isinstance(placement, Pending):
        return {"state": "Pending", "position": placement.position}
    return {"state": "Unknown"}


def _text(action: str, result: dict[str, Any]) -> str:
    state = result["state"]
    if action == "release":
        if "pod" in result:
            return f"released {result['pod']} slot {result['slot']}"
        return "released a pending claim" if state == "Pending" else "not in the pool"
    if "pod" in result:
        return f"{state.lower()} {result['pod']} slot {result['slot']}"
    return f"pending position {result['position']}"


def _listing(pool: dict[str, Any], pod: str | None) -> dict[str, Any]:
    status = pool.get("status") or {}
    pods = [e for e in status.get("pods") or [] if pod is None or e["name"] == pod]
    return {"pods": pods, "pending": [] if pod else status.get("pending") or []}


def _print_listing(listing: dict[str, Any]) -> None:
    print(f"{'POD':<40} {'STATE':<12} {'SLOT':<5} {'SLOT STATE':<10} TASK")
    for entry in listing["pods"]:
        for slot in entry.get("slots") or []:
            print(
                f"{entry['name']:<40} {entry.get('state', ''):<12} {slot['index']:<5} "
                f"{slot.get('state', 'Idle'):<10} {slot.get('task', '')}"
            )
    for position, claim in enumerate(listing["pending"], start=1):
        print(f"pending {position}: {claim['task']} since {claim['since']}")


def run(args: argparse.Namespace) -> int:
    from controllers.agentpool.slots import Slots
    from reconcile.client import Client, RestConfig

    try:
        namespace = args.namespace or default_namespace(args.kubeconfig)
        slots = Slots(Client(RestConfig.load(args.kubeconfig)))
        if args.action == "list":
            listing = _listing(slots.get(namespace, args.pool), args.pod)
            if args.output == "json":
                print(json.dumps(listing))
            else:
                _print_listing(listing)
            return 0
        if args.action == "claim":
            placement: Placement | None = (
                slots.wait_for_slot(namespace, args.pool, args.task, timeout=args.wait)
                if args.wait > 0
                else slots.claim(namespace, args.pool, args.task)
            )
        elif args.action == "start":
            placement = slots.start(namespace, args.pool, args.task, pod=args.pod)
        else:
            placement = slots.release(namespace, args.pool, args.task, pod=args.pod)
    except (ApiError, LedgerError, ValueError) as error:
        print(f"kreconcile slots {args.action}: {error}", file=sys.stderr)
        return 1
    result = {"action": args.action, **_placement(placement)}
    print(json.dumps(result) if args.output == "json" else _text(args.action, result))
    return EXIT_PENDING if isinstance(placement, Pending) and args.action == "claim" else 0
