"""``kreconcile kubelet``: run the simulated kubelet, or make one container restart.

kreconcile kubelet run --nodes node-1,node-2 [--chaos-rate 0.2]
kreconcile kubelet restart default/web-0 main --reason OOMKilled --exit-code 137
"""

from __future__ import annotations

import argparse

from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import ContainerFailure, SimulatedKubelet, restart_container
from reconcile.log import setup_logging
from reconcile.manager.signals import setup_signal_handler

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig of the API server")
    commands = parser.add_subparsers(dest="kubelet_command", required=True)
    serve = commands.add_parser("run", help="register nodes and run pods until SIGTERM")
    serve.add_argument("--nodes", default="node-1", help="comma-separated node names")
    serve.add_argument("--chaos-rate", type=float, default=0.0, help="random restarts per second")
    restart = commands.add_parser("restart", help="make a container terminate and restart")
    restart.add_argument("pod", help="NAMESPACE/NAME of a running pod")
    restart.add_argument("container", help="container name")
    restart.add_argument("--reason", default="Error", help="e.g. OOMKilled, Error, Completed")
    restart.add_argument("--exit-code", type=int, default=1, help="exit code (137 for OOMKilled)")
    restart.add_argument("--message", default="", help="termination message")


def run(args: argparse.Namespace) -> int:
    setup_logging()
    client = Client(RestConfig.from_kubeconfig(args.kubeconfig))
    if args.kubelet_command == "restart":
        namespace, _, name = args.pod.rpartition("/")
        failure = ContainerFailure(args.reason, args.exit_code, args.message)
        pod = restart_container(client, namespace or "default", name, args.container, failure)
        count = next(
            s["restartCount"]
            for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")
            for s in pod["status"].get(key) or []
            if s["name"] == args.container
        )
        print(
            f"pod/{name} container {args.container} restarted "
            f"({args.reason}, exit {args.exit_code}); restartCount={count}"
        )
        return 0
    nodes = [n for n in args.nodes.split(",") if n]
    SimulatedKubelet(client, nodes=nodes, chaos_rate=args.chaos_rate).start(setup_signal_handler())
    return 0
