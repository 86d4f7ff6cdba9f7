"""``kreconcile run``: the manager process with every operator's controllers.

This is what the manager Deployment runs (two replicas, one leading). Leader election is on
by default: controllers run only on the replica holding the Lease, while every replica serves
metrics and probes and watches the config file. The Lease lives in
``--leader-election-namespace``, by default the pod's own namespace (``POD_NAMESPACE`` from the
downward API, else the service account's namespace file).

Exit codes: 0 after SIGTERM/SIGINT and a graceful stop; 1 when setup fails (bad flags, config
or kubeconfig: the log says which) or the manager fails, including "leader election lost".
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controllers.config import attach_config
from controllers.flags import add_common_flags, metrics_options, parse_bool, split_list
from controllers.operators import Operator, OperatorOptions, load_operators
from reconcile.cache import CacheOptions
from reconcile.client import RestConfig
from reconcile.log import setup_logging
from reconcile.manager import Manager, ManagerOptions
from reconcile.webhook.options import DEFAULT_PORT, WebhookServerOptions

__all__ = [
    "DEFAULT_LEADER_ELECTION_ID",
    "RunOptions",
    "add_arguments",
    "build_manager",
    "leader_election_namespace",
    "options_from_args",
    "run",
]

log = logging.getLogger(__name__)

DEFAULT_LEADER_ELECTION_ID = "kreconcile-manager"
"""Name of the Lease; config/rbac/leader_election_role.yaml grants exactly this one."""
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Everything ``build_manager`` needs besides the API server's address."""

    manager: ManagerOptions
    watch_namespaces: tuple[str, ...] = ()
    """Empty: all namespaces."""
    config_path: Path | None = None
    """The operators' config file; None runs every operator on its defaults."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_flags(parser, process="manager")
    parser.add_argument(
        "--leader-elect",
        type=parse_bool,
        nargs="?",
        const=True,
        default=True,
        help="run controllers on one replica at a time (default: true; --leader-elect=false "
        "to disable)",
    )
    parser.add_argument(
        "--leader-election-id",
        default=DEFAULT_LEADER_ELECTION_ID,
        help=f"name of the Lease (default: {DEFAULT_LEADER_ELECTION_ID})",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default=None,
        help="namespace of the Lease (default: $POD_NAMESPACE, else the service account's)",
    )
    parser.add_argument(
        "--namespace",
        default=None,
        help="act only in this namespace (same as --watch-namespaces with one name)",
    )
    parser.add_argument(
        "--watch-namespaces",
        type=split_list,
        default=(),
        help="comma-separated namespaces to act in (default: all)",
    )
    _add_webhook_flags(parser)


def _add_webhook_flags(parser: argparse.ArgumentParser) -> None:
    """kubebuilder's webhook flags: a certificate directory turns the webhook server on."""
    parser.add_argument(
        "--webhook-cert-path",
        default=None,
        help="directory holding the webhook serving certificate; set, it serves the "
        "operators' admission webhooks on --webhook-port (default: no webhooks)",
    )
    parser.add_argument(
        "--webhook-cert-name", default="tls.crt", help="certificate file name (default: tls.crt)"
    )
    parser.add_argument(
        "--webhook-cert-key", default="tls.key", help="key file name (default: tls.key)"
    )
    parser.add_argument(
        "--webhook-port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}"
    )


def _webhook_options(args: argparse.Namespace) -> WebhookServerOptions | None:
    """The webhook server the flags ask for, or None without --webhook-cert-path."""
    if not args.webhook_cert_path:
        return None
    return WebhookServerOptions(
        port=args.webhook_port,
        cert_dir=args.webhook_cert_path,
        cert_name=args.webhook_cert_name,
        key_name=args.webhook_cert_key,
    )


def leader_election_namespace(flag: str | None) -> str:
    """The flag, else $POD_NAMESPACE, else the mounted service account's namespace."""
    if flag:
        return flag
    from_env = os.environ.get("POD_NAMESPACE", "").strip()
    if from_env:
        return from_env
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    except OSError:
        raise ValueError(
            "cannot tell which namespace the leader election Lease belongs in: not running "
            "in a pod; pass --leader-election-namespace (or --leader-elect=false)"
        ) from None


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """Turn parsed flags into options; raises ValueError for a bad combination."""
    namespaces = tuple(dict.fromkeys((*args.watch_namespaces, *split_list(args.namespace or ""))))
    manager = ManagerOptions(
        **metrics_options(args),
        health_probe_bind_address=args.health_probe_bind_address,
        leader_election=args.leader_elect,
        leader_election_id=args.leader_election_id,
        leader_election_namespace=(
            leader_election_namespace(args.leader_election_namespace) if args.leader_elect else ""
        ),
        cache=CacheOptions(namespace=namespaces[0] if len(namespaces) == 1 else None),
        webhook_server=_webhook_options(args),
    )
    return RunOptions(
        manager=manager,
        watch_namespaces=namespaces,
        config_path=Path(args.config) if args.config else None,
    )


def build_manager(
    config: RestConfig, options: RunOptions, operators: Sequence[Operator]
) -> Manager:
    """A manager with the config watcher and every operator's controllers, not started.

    Raises ConfigError when the config file is unreadable or invalid.
    """
    manager = Manager(config, options.manager)
    source = attach_config(manager, operators, options.config_path)
    for operator in operators:
        if operator.setup is None:
            continue
        operator.setup(
            manager,
            OperatorOptions(
                config=source.section(operator.name), watch_namespaces=options.watch_namespaces
            ),
        )
        log.info("operator set up", extra={"operator": operator.name})
    return manager


def run(args: argparse.Namespace) -> int:
    setup_logging(args.zap_log_level)
    operators = load_operators()
    try:
        options = options_from_args(args)
        manager = build_manager(RestConfig.load(args.kubeconfig), options, operators)
    except Exception as error:
        log.error("manager setup failed", extra={"error": str(error)})
        return 1
    log.info(
        "starting manager",
        extra={
            "operators": ",".join(op.name for op in operators) or "none",
            "leader_elect": options.manager.leader_election,
            "namespaces": ",".join(options.watch_namespaces) or "all",
        },
    )
    return manager.run()
