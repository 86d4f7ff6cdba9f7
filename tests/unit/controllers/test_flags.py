"""Flags in controller-runtime's spelling, turned into manager and agent options."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from controllers import agent, run
from controllers.cli import build_parser
from controllers.flags import log_level, parse_bool
from reconcile.metrics.filters import with_authentication_and_authorization


def _run_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param((), True, id="default-on"),
        pytest.param(("--leader-elect",), True, id="bare"),
        pytest.param(("--leader-elect=false",), False, id="go-false"),
        pytest.param(("--leader-elect=0",), False, id="zero"),
        pytest.param(("--leader-elect=True",), True, id="go-True"),
    ],
)
def test_leader_elect_takes_go_booleans(argv: tuple[str, ...], expected: bool) -> None:
    args = _run_args(*argv, "--leader-election-namespace=ops")
    assert run.options_from_args(args).manager.leader_election is expected


def test_bad_boolean_is_a_usage_error() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid boolean 'maybe'"):
        parse_bool("maybe")


def test_manager_options_from_flags(tmp_path: Path) -> None:
    options = run.options_from_args(
        _run_args(
            "--metrics-bind-address=127.0.0.1:9090",
            "--health-probe-bind-address=:9091",
            "--leader-election-id=my-lease",
            "--leader-election-namespace=ops",
            "--watch-namespaces=a, b",
            "--namespace=c",
            f"--config={tmp_path / 'c.yaml'}",
            f"--metrics-cert-path={tmp_path}",
        )
    )
    manager = options.manager
    assert manager.metrics_bind_address == "127.0.0.1:9090"
    assert manager.health_probe_bind_address == ":9091"
    assert (manager.leader_election_id, manager.leader_election_namespace) == ("my-lease", "ops")
    assert options.watch_namespaces == ("a", "b", "c")
    assert manager.cache.namespace is None  # several namespaces: the operators filter
    assert options.config_path == tmp_path / "c.yaml"
    assert manager.metrics_cert_file == str(tmp_path / "tls.crt")
    assert manager.metrics_key_file == str(tmp_path / "tls.key")


def test_one_namespace_restricts_the_cache() -> None:
    options = run.options_from_args(_run_args("--namespace=team-a", "--leader-elect=false"))
    assert options.manager.cache.namespace == "team-a"
    assert options.watch_namespaces == ("team-a",)


def test_lease_namespace_from_the_downward_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "kreconcile-system")
    assert run.leader_election_namespace(None) == "kreconcile-system"
    assert run.leader_election_namespace("explicit") == "explicit"


def test_lease_namespace_outside_a_pod_says_what_to_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    monkeypatch.setattr(run, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "absent")
    with pytest.raises(ValueError, match="pass --leader-election-namespace"):
        run.options_from_args(_run_args())
    assert run.options_from_args(_run_args("--leader-elect=false")).manager.election() is None


def test_node_name_from_flag_or_downward_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(agent.NODE_NAME_ENV, "node-7")
    assert agent.node_name(None) == "node-7"
    assert agent.node_name("node-1") == "node-1"
    monkeypatch.delenv(agent.NODE_NAME_ENV)
    with pytest.raises(ValueError, match="pass --node-name, or set NODE_NAME"):
        agent.node_name(None)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("debug", logging.DEBUG),
        ("INFO", logging.INFO),
        ("error", logging.ERROR),
        ("2", logging.DEBUG),
    ],
)
def test_zap_log_level(text: str, level: int) -> None:
    assert log_level(text) == level


def test_webhook_cert_path_turns_the_webhook_server_on(tmp_path: Path) -> None:
    base = ("--leader-elect=false",)
    assert run.options_from_args(_run_args(*base)).manager.webhook_server is None
    options = run.options_from_args(
        _run_args(*base, f"--webhook-cert-path={tmp_path}", "--webhook-port=10250",
                  "--webhook-cert-name=cert.pem", "--webhook-cert-key=key.pem")
    ).manager.webhook_server  # fmt: skip
    assert options is not None
    assert (options.port, options.cert_file, options.key_file) == (
        10250, str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"),
    )  # fmt: skip


@pytest.mark.parametrize("secure", [True, False], ids=["secure", "plain"])
def test_metrics_secure_serves_https_behind_token_review(secure: bool) -> None:
    flags = ["--metrics-secure"] if secure else []
    manager = run.options_from_args(_run_args(*flags, "--leader-elect=false")).manager
    assert manager.metrics_secure_serving is secure
    assert manager.metrics_filter is (with_authentication_and_authorization if secure else None)
    parsed = build_parser().parse_args(["agent", "--node-name=n1", *flags])
    assert agent.options_from_args(parsed).metrics_secure is secure


def test_metrics_secure_takes_go_booleans() -> None:
    manager = run.options_from_args(_run_args("--metrics-secure=false", "--leader-elect=false"))
    assert manager.manager.metrics_secure_serving is False
