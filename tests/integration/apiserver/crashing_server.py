"""An API server process that kills itself in the middle of a durable write.

    python -m tests.integration.apiserver.crashing_server DATA_DIR KUBECONFIG WRITES

It serves with ``DATA_DIR``, writes ``KUBECONFIG`` once ready (after seeding), and exits with 137 (as if
SIGKILLed) inside the write that follows ``WRITES`` more, between the statement that stores
the object and the one that stores the revision counter.
"""

from __future__ import annotations

import sys
import threading

from reconcile.apiserver import APIServer, ServerOptions


def main(data_dir: str, kubeconfig: str, writes: int) -> None:
    server = APIServer(ServerOptions(data_dir=data_dir))

    def ready() -> None:
        server.faults.kill_during_write(after=writes)
        server.write_kubeconfig(kubeconfig)

    server.serve(threading.Event(), on_ready=ready)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
