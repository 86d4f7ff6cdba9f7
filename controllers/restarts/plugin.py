"""``kubectl restarts``: recent container restarts, newest first, from the RestartRecords.

Installed as the console script ``kubectl-restarts``, which kubectl runs as a plugin::

    kubectl restarts [-n NS | -A] [--since 1h] [--reason OOMKilled] [-o wide|json]
                     [--kubeconfig PATH] [--context NAME]

Each line is one restart kept in a record's history (the newest 20 per container by
default): pod, container, reason, exit code, the signal that killed it (exit codes above
128), and how long ago it finished; ``-o wide`` adds the workload, start and finish times,
the container ID and the message. Restarts counted without details (``missed``) have no
line; a footer says how many. The namespace defaults to the kubeconfig context's, as
kubectl's does. kubectl does not pass its own global flags to plugins, so ``--kubeconfig``
and ``--context`` are accepted here too (``KUBECONFIG`` is honoured).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from controllers.restarts.options import parse_duration
from crds.restartrecord import REASONS, RestartRecord
from reconcile.timestamps import parse_time

__all__ = ["build_parser", "format_table", "main", "restart_rows"]

_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _reason(text: str) -> str:
    for reason in REASONS:
        if reason.lower() == text.lower():
            return reason
    raise argparse.ArgumentTypeError(f"unknown reason {text!r}; reasons are: {', '.join(REASONS)}")


def _since(text: str) -> float:
    try:
        return parse_duration(text, "--since")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl restarts",
        description="List recent container restarts (from RestartRecords), newest first.",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="list restarts in every namespace"
    )
    parser.add_argument(
        "--since", type=_since, default=None, help="only restarts that finished within, e.g. 1h"
    )
    parser.add_argument(
        "--reason", type=_reason, default=None, help=f"only this reason ({', '.join(REASONS)})"
    )
    parser.add_argument("-o", "--output", choices=("wide", "json"), default=None)
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG)")
    parser.add_argument("--context", default=None, help="kubeconfig context to use")
    return parser


def restart_rows(
    records: Iterable[Mapping[str, Any]], *, since: float | None = None, reason: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """(restarts newest first, restarts counted as missed) of pod records.

    ``since`` is a Unix time: only restarts that finished after it.
    """
    rows: list[dict[str, Any]] = []
    missed = 0
    for record in records:
        spec = record.get("spec") or {}
        if not spec.get("podName"):
            continue
        workload = spec.get("workload") or {}
        for container in (record.get("status") or {}).get("containers") or ():
            missed += int(container.get("missed") or 0)
            for entry in container.get("history") or ():
                finished = parse_time(entry.get("finishedAt"))
                if since is not None and (finished is None or finished < since):
                    continue
                if reason is not None and entry.get("reason") != reason:
                    continue
                rows.append(
                    {
                        "namespace": record["metadata"].get("namespace", ""),
                        "pod": spec["podName"],
                        "container": container.get("name", ""),
                        "containerType": container.get("type", "Regular"),
                        "workload": (
                            f"{workload['kind']}/{workload['name']}" if workload.get("name") else ""
                        ),
                        **entry,
                    }
                )
    rows.sort(
        key=lambda r: (parse_time(r.get("finishedAt")) or 0.0, r["restartCount"]), reverse=True
    )
    return rows, missed


def _age(seconds: float) -> str:
    """kubectl's short durations: 45s, 12m, 5h, 3d."""
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _signal_name(number: int | None) -> str:
    if number is None:
        return ""
    try:
        return f"{signal.Signals(number).name}"
    except ValueError:
        return str(number)


def format_table(
    rows: Sequence[Mapping[str, Any]], *, wide: bool, all_namespaces: bool, now: float
) -> str:
    """Columns in kubectl's style: upper-case headers, aligned, "<none>" for blanks."""
    headers = ["POD", "CONTAINER", "RESTART", "REASON", "EXIT CODE", "SIGNAL", "AGE"]
    if all_namespaces:
        headers.insert(0, "NAMESPACE")
    if wide:
        headers += ["WORKLOAD", "STARTED", "FINISHED", "CONTAINER ID", "MESSAGE"]
    lines = [headers]
    for row in rows:
        finished = parse_time(row.get("finishedAt"))
        cells = [
            row["pod"],
            row["container"],
            str(row["restartCount"]),
            row["reason"],
            "" if row.get("exitCode") is None else str(row["exitCode"]),
            _signal_name(row.get("signal")),
            "" if finished is None else _age(now - finished),
        ]
        if all_namespaces:
            cells.insert(0, row["namespace"])
        if wide:
            cells += [
                row.get("workload", ""),
                row.get("startedAt", ""),
                row.get("finishedAt", ""),
                row.get("containerID", ""),
                str(row.get("message", "")).replace("\n", " ")[:80],
            ]
        lines.append([cell or "<none>" for cell in cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "   ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    """The namespace of the kubeconfig context (as kubectl picks it), else "default"."""
    from kubernetes.config import kube_config

    path = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    try:
        contexts, active = kube_config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
    except Exception:
        try:
            return _SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
        except OSError:
            return "default"
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else active
    return str(((chosen or {}).get("context") or {}).get("namespace") or "default")


def _list(args: argparse.Namespace) -> list[dict[str, Any]]:
    from reconcile.client import Client, RestConfig

    config = (
        RestConfig.from_kubeconfig(args.kubeconfig, context=args.context)
        if args.kubeconfig or args.context or not os.environ.get("KUBERNETES_SERVICE_HOST")
        else RestConfig.in_cluster()
    )
    namespace = None
    if not args.all_namespaces:
        namespace = args.namespace or _context_namespace(args.kubeconfig, args.context)
    items: list[dict[str, Any]] = Client(config).list(RestartRecord, namespace=namespace)["items"]
    return items


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kubectl-restarts`` console script."""
    from reconcile.client.restmapper import NoKindMatch
    from reconcile.errors import ApiError

    args = build_parser().parse_args(argv)
    now = time.time()
    try:
        records = _list(args)
    except NoKindMatch:
        print(
            "error: the server does not serve restartrecords.kreconcile.io; install the CRDs "
            "(kubectl apply -k config/crd) and run the restarts operator",
            file=sys.stderr,
        )
        return 1
    except ApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    since = None if args.since is None else now - args.since
    rows, missed = restart_rows(records, since=since, reason=args.reason)
    if args.output == "json":
        print(json.dumps({"restarts": rows, "missed": missed}, indent=2))
        return 0
    if not rows:
        where = "any namespace" if args.all_namespaces else "this namespace"
        print(f"No restarts found in {where}.", file=sys.stderr)
    else:
        print(
            format_table(
                rows, wide=args.output == "wide", all_namespaces=args.all_namespaces, now=now
            )
        )
    if missed:
        print(f"{missed} more restart(s) counted without details (missed).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
