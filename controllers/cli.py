"""The ``kreconcile`` command line: one subcommand per process kind.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; this file only lists them, so adding a process kind is one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

import reconcile


class _Subcommand(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# name -> (module implementing add_arguments/run, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "apiserver": (
        "reconcile.apiserver.cli",
        "serve the embedded Kubernetes API server on loopback",
    ),
    "kubelet": (
        "reconcile.envtest.cli",
        "simulated kubelet: run nodes and pods, or restart a container",
    ),
    "dev": (
        "controllers.dev",
        "run a development cluster: embedded API server and every controller",
    ),
    "run": (
        "controllers.run",
        "run the manager: every operator's controllers, with leader election",
    ),
    "agent": (
        "controllers.agent",
        "run the node agent of this node (no leader election)",
    ),
    "crdgen": (
        "controllers.crdgen",
        "write config/crd/bases/*.yaml from the API types in crds/",
    ),
    "slots": (
        "controllers.agentpool.cli",
        "claim, start, release or list the task slots of an AgentPool",
    ),
}


def _load(module: str) -> _Subcommand:
    loaded: _Subcommand = importlib.import_module(module)
    return loaded


def build_parser(
    load: Callable[[str], _Subcommand] = _load, only: str | None = None
) -> argparse.ArgumentParser:
    """The parser; each subcommand adds its own options.

    ``only`` names the one subcommand whose module is loaded ("" for none, None for all):
    a process imports what it runs and nothing else (``kreconcile agent`` stays free of the
    embedded API server's modules, about 20 MB and seconds of start-up).
    """
    parser = argparse.ArgumentParser(
        prog="kreconcile",
        description="Kubernetes controllers in Python: framework, embedded API server, operators.",
    )
    parser.add_argument(
        "--version", action="version", version=f"kreconcile {reconcile.__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in _SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if only is not None and name != only:
            continue
        command = load(module)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kreconcile`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((arg for arg in argv if not arg.startswith("-")), "")
    parser = build_parser(only=chosen if chosen in _SUBCOMMANDS else "")
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
