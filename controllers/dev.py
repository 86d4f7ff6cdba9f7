"""``kreconcile dev``: a whole development cluster in one process.

Starts the embedded API server with its state in ``--state-dir`` (sqlite, so objects survive
a restart of ``kreconcile dev``), its controllers (Deployments, ReplicaSets, Jobs,
DaemonSets, ServiceAccounts) and a simulated kubelet with a few nodes, installs the
kreconcile.io CRDs, runs the manager with every operator and one node agent per simulated
node in this process (``controllers.inprocess``), serves the operators' admission webhooks
with a self-signed certificate and registers them (``controllers.devwebhooks``), writes a
kubeconfig there and prints how to use it. The server speaks TLS: its CA, serving
certificate and admin token live under ``apiserver/pki``, and the kubeconfig trusts the CA
and authenticates as the admin.
Ctrl-C (SIGINT) or SIGTERM stops everything within a few seconds.
"""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from controllers.devwebhooks import register, write_certificate
from controllers.inprocess import InProcessManagers, install_crds
from controllers.operators import load_operators
from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import SimulatedKubelet
from reconcile.log import setup_logging
from reconcile.manager.signals import setup_signal_handler

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


DEFAULT_STATE_DIR = ".kreconcile/dev"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        help=f"where objects and the kubeconfig live (default: {DEFAULT_STATE_DIR})",
    )
    parser.add_argument("--port", type=int, default=0, help="API server port (0: any free port)")
    parser.add_argument(
        "--nodes", default="node-1,node-2,node-3", help="simulated kubelet nodes (comma-separated)"
    )
    parser.add_argument(
        "--chaos-rate", type=float, default=0.0, help="random container restarts per second"
    )
    parser.add_argument(
        "--config",
        default=None,
        help="the operators' configuration file (as for kreconcile run), hot-reloaded",
    )
    parser.add_argument(
        "--metrics-bind-address",
        default="0",
        help='serve the manager\'s /metrics here, e.g. 127.0.0.1:8080 (default "0": off)',
    )
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve plain HTTP to anyone (default: TLS, the admin token in the kubeconfig, RBAC)",
    )


def _banner(kubeconfig: Path, url: str) -> str:
    return "\n".join(
        [
            f"kreconcile dev: API server on {url}",
            f"kubeconfig: {kubeconfig}",
            "",
            "try:",
            f"  export KUBECONFIG={kubeconfig}",
            "  kubectl get nodes",
            "  kubectl run web --image=nginx  # the simulated kubelet schedules and runs it",
            "  kubectl create deployment app --image=nginx --replicas=3 && kubectl rollout status "
            "deploy/app",
            "  kreconcile kubelet restart default/web web --reason OOMKilled --exit-code 137",
            "  kubectl apply -k config/default",
            "  kubectl apply -f config/samples/",
            "",
            "Ctrl-C stops everything; objects are kept for the next start.",
        ]
    )


def _start_operators(
    args: argparse.Namespace,
    server: APIServer,
    config: RestConfig,
    state: Path,
    stop: threading.Event,
) -> tuple[InProcessManagers, list[str]]:
    """Install the CRDs, then run the manager and one agent per node until ``stop``."""
    client = Client(config)
    install_crds(client)
    cert_dir = state / "webhook-certs"
    ca_pem = write_certificate(cert_dir)
    failed: list[str] = []

    def on_error(name: str, _error: BaseException) -> None:
        failed.append(name)
        stop.set()

    managers = InProcessManagers(
        config,
        load_operators(),
        nodes=[n for n in args.nodes.split(",") if n],
        cgroup_dir=state / "cgroup",
        config_path=Path(args.config) if args.config else None,
        metrics_bind_address=args.metrics_bind_address,
        webhook_cert_dir=cert_dir,
        on_error=on_error,
    )
    managers.start(stop)
    manager = managers.managers[0][1]
    if manager.serves_webhooks:
        register(client, manager.webhook_server, ca_pem, server.service_routes, timeout=30)
    return managers, failed


def run(args: argparse.Namespace) -> int:
    setup_logging()
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    server = APIServer(
        ServerOptions(
            port=args.port,
            data_dir=str(state / "apiserver"),
            controllers=True,
            insecure_http=args.insecure_http,
        )
    )
    stop = setup_signal_handler()
    server.start()
    try:
        kubeconfig = server.write_kubeconfig(state / "kubeconfig")
        config = RestConfig.from_kubeconfig(kubeconfig)
        kubelet = SimulatedKubelet(
            Client(config),
            nodes=[n for n in args.nodes.split(",") if n],
            chaos_rate=args.chaos_rate,
        )
        thread = threading.Thread(target=kubelet.start, args=(stop,), name="kubelet", daemon=True)
        thread.start()
        try:
            managers, failed = _start_operators(args, server, config, state, stop)
        except Exception as error:
            log.error("operators setup failed", extra={"error": str(error)})
            stop.set()
            thread.join(5)
            return 1
        print(_banner(kubeconfig, server.url), flush=True)
        stop.wait()
        stuck = managers.join(35)
        thread.join(5)
    finally:
        server.stop()
    print("kreconcile dev: stopped", flush=True)
    return 1 if failed or stuck else 0
