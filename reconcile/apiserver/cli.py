"""``kreconcile apiserver``: serve the embedded API server until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from reconcile.apiserver.server import APIServer, ServerOptions

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


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
        "--watch-history",
        type=int,
        default=10_000,
        help="events kept for watch resumption (older resourceVersions get 410 Gone)",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = APIServer(
        ServerOptions(port=args.port, data_dir=args.data_dir, watch_history=args.watch_history)
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def ready() -> None:
        if args.kubeconfig:
            server.write_kubeconfig(args.kubeconfig)
        print(f"serving on {server.url}", flush=True)
        if args.kubeconfig:
            print(f"kubeconfig: {args.kubeconfig}", flush=True)

    server.serve(stop, on_ready=ready)
    return 0
