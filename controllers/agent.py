"""``kreconcile agent``: the node agent, one per node (the agent DaemonSet runs it).

It is a manager without leader election: every node's agent works at the same time, each on
its own node. Its Pod cache holds only the pods scheduled to ``--node-name`` (a field
selector on ``spec.nodeName``), so memory and watch traffic scale with one node, not the
cluster. The node name comes from the downward API: the DaemonSet sets ``NODE_NAME`` from
``spec.nodeName`` and the flag defaults to it.

Exit codes: 0 after SIGTERM/SIGINT; 1 when setup fails (no node name, bad config or
kubeconfig) or the manager fails.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controllers.config import attach_config
from controllers.flags import add_common_flags, metrics_cert_files
from controllers.operators import AgentOptions, Operator, load_operators
from reconcile.cache import CacheOptions, KindOptions
from reconcile.client import RestConfig
from reconcile.gvk import GroupVersionKind
from reconcile.log import setup_logging
from reconcile.manager import Manager, ManagerOptions
from reconcile.metrics.filters import with_authentication_and_authorization

__all__ = [
    "NODE_NAME_ENV",
    "AgentRunOptions",
    "add_arguments",
    "build_agent",
    "node_name",
    "options_from_args",
    "run",
]

log = logging.getLogger(__name__)

NODE_NAME_ENV = "NODE_NAME"
"""Set by the DaemonSet from the downward API (``fieldRef: spec.nodeName``)."""
POD = GroupVersionKind("", "v1", "Pod")


@dataclass(frozen=True, kw_only=True)
class AgentRunOptions:
    """Everything ``build_agent`` needs besides the API server's address."""

    node_name: str
    cgroup_root: Path = Path("/sys/fs/cgroup")
    metrics_bind_address: str = ":8080"
    health_probe_bind_address: str = ":8081"
    metrics_cert_file: str | None = None
    metrics_key_file: str | None = None
    metrics_secure: bool = False
    """HTTPS, and scrapes authenticated and authorized by the API server (``--metrics-secure``)."""
    config_path: Path | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_flags(parser, process="agent")
    parser.add_argument(
        "--node-name",
        default=None,
        help=f"the node this agent runs on (default: ${NODE_NAME_ENV}, set by the DaemonSet "
        "from the downward API)",
    )
    parser.add_argument(
        "--cgroup-root",
        default="/sys/fs/cgroup",
        help="where the node's cgroup filesystem is mounted (default: /sys/fs/cgroup)",
    )


def node_name(flag: str | None) -> str:
    """The flag, else $NODE_NAME; raises ValueError saying how to provide it."""
    name = (flag or os.environ.get(NODE_NAME_ENV, "")).strip()
    if not name:
        raise ValueError(
            f"no node name: pass --node-name, or set {NODE_NAME_ENV} from the downward API "
            "(env valueFrom.fieldRef.fieldPath: spec.nodeName)"
        )
    return name


def build_agent(
    config: RestConfig, options: AgentRunOptions, operators: Sequence[Operator]
) -> Manager:
    """An agent manager with every operator's node part, not started."""
    scrape_auth = with_authentication_and_authorization if options.metrics_secure else None
    manager = Manager(
        config,
        ManagerOptions(
            metrics_bind_address=options.metrics_bind_address,
            health_probe_bind_address=options.health_probe_bind_address,
            metrics_cert_file=options.metrics_cert_file,
            metrics_key_file=options.metrics_key_file,
            metrics_secure_serving=options.metrics_secure,
            metrics_filter=scrape_auth,
            leader_election=False,
            cache=CacheOptions(
                by_kind={POD: KindOptions(field_selector=f"spec.nodeName={options.node_name}")}
            ),
        ),
    )
    source = attach_config(manager, operators, options.config_path)
    for operator in operators:
        if operator.setup_agent is None:
            continue
        operator.setup_agent(
            manager,
            AgentOptions(
                config=source.section(operator.name),
                node_name=options.node_name,
                cgroup_root=options.cgroup_root,
            ),
        )
        log.info("agent part set up", extra={"operator": operator.name, "node": options.node_name})
    return manager


def options_from_args(args: argparse.Namespace) -> AgentRunOptions:
    """Turn parsed flags into options; raises ValueError without a node name."""
    cert, key = metrics_cert_files(args)
    return AgentRunOptions(
        node_name=node_name(args.node_name),
        cgroup_root=Path(args.cgroup_root),
        metrics_bind_address=args.metrics_bind_address,
        health_probe_bind_address=args.health_probe_bind_address,
        metrics_cert_file=cert,
        metrics_key_file=key,
        metrics_secure=args.metrics_secure,
        config_path=Path(args.config) if args.config else None,
    )


def run(args: argparse.Namespace) -> int:
    setup_logging(args.zap_log_level)
    operators = load_operators()
    try:
        options = options_from_args(args)
        manager = build_agent(RestConfig.load(args.kubeconfig), options, operators)
    except Exception as error:
        log.error("agent setup failed", extra={"error": str(error)})
        return 1
    log.info(
        "starting node agent",
        extra={
            "node": options.node_name,
            "operators": ",".join(op.name for op in operators if op.setup_agent) or "none",
        },
    )
    return manager.run()
