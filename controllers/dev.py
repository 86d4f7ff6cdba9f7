"""``kreconcile dev``: a whole development cluster in one process.

Starts the embedded API server with its state in ``--state-dir`` (sqlite, so objects survive
a restart of ``kreconcile dev``; its CA, serving certificate and admin token under
``apiserver/pki``) and a simulated kubelet with a few nodes, writes a kubeconfig there
(trusting the CA, authenticating as the admin) and prints how to use it.
Ctrl-C (SIGINT) or SIGTERM stops everything within a few seconds.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import SimulatedKubelet
from reconcile.log import setup_logging
from reconcile.manager.signals import setup_signal_handler

__all__ = ["add_arguments", "run"]


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
            "  kreconcile kubelet restart default/web web --reason OOMKilled --exit-code 137",
            "  kubectl apply -k config/default",
            "  kubectl apply -f config/samples/",
            "",
            "Ctrl-C stops everything; objects are kept for the next start.",
        ]
    )


def run(args: argparse.Namespace) -> int:
    setup_logging()
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    server = APIServer(
        ServerOptions(
            port=args.port, data_dir=str(state / "apiserver"), insecure_http=args.insecure_http
        )
    )
    stop = setup_signal_handler()
    server.start()
    try:
        kubeconfig = server.write_kubeconfig(state / "kubeconfig")
        kubelet = SimulatedKubelet(
            Client(RestConfig.from_kubeconfig(kubeconfig)),
            nodes=[n for n in args.nodes.split(",") if n],
            chaos_rate=args.chaos_rate,
        )
        thread = threading.Thread(target=kubelet.start, args=(stop,), name="kubelet", daemon=True)
        thread.start()
        print(_banner(kubeconfig, server.url), flush=True)
        stop.wait()
        thread.join(5)
    finally:
        server.stop()
    print("kreconcile dev: stopped", flush=True)
    return 0
