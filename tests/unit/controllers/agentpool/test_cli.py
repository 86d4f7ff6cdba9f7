"""``kreconcile slots``: arguments, namespace defaults, and what it prints."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controllers.agentpool.cli import default_namespace
from controllers.cli import _SUBCOMMANDS, _load, build_parser


def test_only_the_invoked_subcommand_is_loaded() -> None:
    loaded: list[str] = []

    def load(module: str):
        loaded.append(module)
        return _load(module)

    parser = build_parser(load, only="slots")
    assert loaded == [_SUBCOMMANDS["slots"][0]]
    args = parser.parse_args(
        ["slots", "-n", "ci", "claim", "agents", "--task", "t1", "--wait", "5"]
    )
    assert (args.action, args.pool, args.task, args.wait, args.namespace) == (
        "claim",
        "agents",
        "t1",
        5.0,
        "ci",
    )


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["slots", "claim", "agents"], id="claim-needs-a-task"),
        pytest.param(["slots", "list"], id="list-needs-a-pool"),
        pytest.param(
            ["slots", "claim", "agents", "--task", "t", "--pod", "x"], id="no-pod-on-claim"
        ),
    ],
)
def test_bad_usage_is_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser(only="slots").parse_args(argv)
    assert exited.value.code == 2


def test_the_namespace_defaults_to_the_kubeconfig_context(tmp_path: Path) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [
            {"name": "with", "context": {"cluster": "c", "user": "u", "namespace": "ci"}},
            {"name": "without", "context": {"cluster": "c", "user": "u"}},
        ],
        "current-context": "with",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    no_account = tmp_path / "not-in-a-pod"
    assert default_namespace(str(path), no_account) == "ci"
    config["current-context"] = "without"
    path.write_text(yaml.safe_dump(config))
    assert default_namespace(str(path), no_account) == "default"
    in_a_pod = tmp_path / "namespace"
    in_a_pod.write_text("team-a\n")
    assert default_namespace(str(path), in_a_pod) == "team-a"
