"""The command line loads only the subcommand it runs."""

from __future__ import annotations

import subprocess
import sys

from controllers import agent
from controllers.cli import build_parser


def test_only_the_chosen_subcommand_is_loaded() -> None:
    loaded: list[str] = []

    def load(module: str) -> object:
        loaded.append(module)
        return agent

    parser = build_parser(load=load, only="agent")  # type: ignore[arg-type]
    assert loaded == ["controllers.agent"]
    assert parser.parse_args(["agent", "--node-name=n1"]).node_name == "n1"
    build_parser(load=load, only="")  # type: ignore[arg-type]
    assert loaded == ["controllers.agent"], "top-level help loads no subcommand"


def test_the_agent_process_never_imports_the_embedded_server() -> None:
    script = (
        "import sys\nfrom controllers.cli import main\n"
        "try:\n    main(['agent', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('reconcile.apiserver')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
