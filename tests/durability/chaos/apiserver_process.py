"""The embedded API server as a process of its own, for the chaos suite.

    python -m tests.durability.chaos.apiserver_process DIR PORT USER...

Serves on 127.0.0.1:PORT with its objects in DIR/data (sqlite, so a restart keeps them) and
its audit log in DIR/audit.log. Once serving it writes DIR/kubeconfig (the admin) and one
DIR/kubeconfig-USER per USER: a client certificate signed by the server's CA (kept in
DIR/data/pki across restarts), in ``system:masters``, so the audit log tells the processes
apart. Then it writes DIR/ready holding its pid.

Faults are injected through stdin, one JSON object per line, applied to ``APIServer.faults``:
``{"op": "fail", "code": 500, "count": 1000}``, ``{"op": "delay", "seconds": 5}``,
``{"op": "cut"}`` (close every watch), ``{"op": "stall", "on": true}``, ``{"op": "clear"}``.
When stdin closes (the driver is gone) the server stops.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.audit import AuditOptions
from reconcile.apiserver.auth.user import SYSTEM_MASTERS
from reconcile.log import setup_logging
from reconcile.manager.signals import setup_signal_handler


def apply(server: APIServer, command: dict[str, Any]) -> None:
    faults, op = server.faults, command.pop("op")
    if op == "fail":
        faults.fail(**command)
    elif op == "delay":
        faults.delay(**command)
    elif op == "cut":
        faults.cut_watches()
    elif op == "stall":
        faults.stall_watches(bool(command.get("on", True)))
    elif op == "clear":
        faults.clear()
        faults.stall_watches(False)
    else:
        raise ValueError(f"unknown fault op {op!r}")


def follow_stdin(server: APIServer, stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip():
            apply(server, json.loads(line))
    stop.set()


def main() -> int:
    directory, port, users = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    setup_logging()
    server = APIServer(
        ServerOptions(
            port=port,
            data_dir=str(directory / "data"),
            audit=AuditOptions(path=str(directory / "audit.log")),
        )
    )
    stop = setup_signal_handler()

    def ready() -> None:
        server.write_kubeconfig(directory / "kubeconfig")
        for user in users:
            pair = server.issue_client_certificate(user, (SYSTEM_MASTERS,))
            server.write_kubeconfig(directory / f"kubeconfig-{user}", certificate=pair)
        threading.Thread(target=follow_stdin, args=(server, stop), daemon=True).start()
        (directory / "ready").write_text(str(os.getpid()))

    server.serve(stop, on_ready=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
