"""``kreconcile apiserver``: serve the embedded API server until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse

from reconcile.apiserver.audit import AuditOptions
from reconcile.apiserver.flowcontrol import (
    DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
    DEFAULT_MAX_REQUESTS_INFLIGHT,
)
from reconcile.apiserver.server import APIServer, ServerOptions
from reconcile.log import setup_logging
from reconcile.manager.signals import setup_signal_handler

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)"
    )
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="write a kubeconfig for the server here once it is ready to serve",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="keep objects in DIR/objects.sqlite so they survive a restart (default: memory)",
    )
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve plain HTTP with no authentication or authorization (default: TLS with a "
        "CA kept in DATA_DIR/pki, the admin token in the kubeconfig, and RBAC)",
    )
    parser.add_argument(
        "--watch-history",
        type=int,
        default=10_000,
        help="events kept for watch resumption (older resourceVersions get 410 Gone)",
    )
    parser.add_argument(
        "--max-requests-inflight",
        type=int,
        default=DEFAULT_MAX_REQUESTS_INFLIGHT,
        help="read-only requests served at once before answering 429 (0: no limit)",
    )
    parser.add_argument(
        "--max-mutating-requests-inflight",
        type=int,
        default=DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
        help="mutating requests served at once before answering 429 (0: no limit)",
    )
    parser.add_argument(
        "--audit-log-path",
        default=None,
        help="log every mutating request here, one audit.k8s.io/v1 Event per line "
        "(default: no audit log)",
    )
    parser.add_argument(
        "--audit-log-maxsize",
        type=int,
        default=100,
        help="megabytes after which the audit log is rotated (default: 100)",
    )
    parser.add_argument(
        "--audit-log-maxbackup",
        type=int,
        default=1,
        help="rotated audit log files kept (default: 1)",
    )
    parser.add_argument(
        "--controllers",
        action="store_true",
        help="also run the controllers kubectl expects (Deployments, ReplicaSets, Jobs, "
        "DaemonSets, default ServiceAccounts), as kreconcile dev does",
    )


def _audit_options(args: argparse.Namespace) -> AuditOptions | None:
    if not args.audit_log_path:
        return None
    return AuditOptions(
        path=args.audit_log_path,
        max_size_mb=args.audit_log_maxsize,
        max_backups=args.audit_log_maxbackup,
    )


def run(args: argparse.Namespace) -> int:
    setup_logging()
    server = APIServer(
        ServerOptions(
            port=args.port,
            data_dir=args.data_dir,
            watch_history=args.watch_history,
            max_requests_inflight=args.max_requests_inflight,
            max_mutating_requests_inflight=args.max_mutating_requests_inflight,
            controllers=args.controllers,
            insecure_http=args.insecure_http,
            audit=_audit_options(args),
        )
    )
    stop = setup_signal_handler()

    def ready() -> None:
        if args.kubeconfig:
            server.write_kubeconfig(args.kubeconfig)
        print(f"serving on {server.url}", flush=True)
        if args.kubeconfig:
            print(f"kubeconfig: {args.kubeconfig}", flush=True)

    server.serve(stop, on_ready=ready)
    return 0
