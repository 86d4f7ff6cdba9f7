"""``kreconcile dev`` starts, serves kubectl, keeps state across restarts and stops on SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from controllers.agentpool.ledger import SlotRef
from controllers.agentpool.slots import Slots
from reconcile.client import Client, RestConfig
from tests.conftest import Kubectl
from tests.integration.config.manifests import CONFIG
from tests.waiting import wait_for

SAMPLES = CONFIG / "samples"


def _start(state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "controllers.cli", "dev", "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _stop_within(process: subprocess.Popen[str], seconds: float) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=seconds) == 0
    return time.monotonic() - started


def _webhook_refuses_stranding_slots(kubectl: Kubectl, kubeconfig: Path) -> None:
    """dev serves the AgentPool webhook: kubectl apply of a spec that would strand a
    reserved slot is refused with the webhook's message; one that strands none passes."""
    slots = Slots(Client(RestConfig.from_kubeconfig(kubeconfig)))
    placed = [slots.claim("default", "ci-agents", task) for task in ("t1", "t2")]
    assert placed == [SlotRef("ci-agents-0", 0, "Reserved"), SlotRef("ci-agents-0", 1, "Reserved")]
    pool = yaml.safe_load((SAMPLES / "kreconcile_v1alpha1_agentpool.yaml").read_text())
    pool["spec"]["slotsPerAgent"] = 1
    refused = kubectl.run("apply", "-f", "-", input=yaml.safe_dump(pool), check=False)
    assert refused.returncode != 0
    assert (
        'The AgentPool "ci-agents" is invalid: spec.slotsPerAgent: Forbidden: lowering '
        "slotsPerAgent to 1 would strand ci-agents-0 slot 1 (Reserved by t2)"
    ) in refused.stderr
    pool["spec"]["slotsPerAgent"] = 2
    assert "configured" in kubectl("apply", "-f", "-", input=yaml.safe_dump(pool))


def _webhook_warns_of_overlapping_policies(kubectl: Kubectl) -> None:
    """dev serves the IOLimitPolicy webhook: a second policy selecting the sample's pods is
    admitted, and kubectl prints the webhook's warning naming the sample."""
    policy = yaml.safe_load((SAMPLES / "kreconcile_v1alpha1_iolimitpolicy.yaml").read_text())
    policy["metadata"]["name"] = "batch-workers-strict"
    applied = kubectl.run("apply", "-f", "-", input=yaml.safe_dump(policy))
    assert "created" in applied.stdout
    assert 'Warning: spec.selector: IOLimitPolicy "batch-workers" also select' in applied.stderr


def test_dev_serves_kubectl_and_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    kubeconfig = state / "kubeconfig"
    process = _start(state)
    try:
        wait_for(kubeconfig.exists, timeout=30, what="kreconcile dev to write its kubeconfig")
        kubectl = Kubectl(kubeconfig, tmp_path / "cache")
        manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remembered}\n"
        assert "created" in kubectl("apply", "-f", "-", input=manifest)
        wait_for(
            lambda: (
                kubectl.run("get", "crd", "agentpools.kreconcile.io", check=False).returncode == 0
            ),
            timeout=30,
            what="the kreconcile.io CRDs",
        )
        assert kubectl("apply", "-f", str(SAMPLES)).count(" created") == 3
        wait_for(  # the AgentPool operator runs in dev: the sample pool gets its agent
            lambda: (
                kubectl("get", "agentpool", "ci-agents", "-o", "jsonpath={.status.readyReplicas}")
                == "1"
            ),
            timeout=30,
            what="the sample AgentPool's agent pod to be Ready",
        )
        # the restarts operator runs in dev: the sample record's pod does not exist
        wait_for(
            lambda: kubectl(
                "get", "rr", "checkout-7d9f8b6c5-x2x4q", "-o", "jsonpath={.status.podDeletedAt}"
            ),
            timeout=20,
            what="the restarts operator to see the sample's pod gone",
        )
        _webhook_refuses_stranding_slots(kubectl, kubeconfig)
        _webhook_warns_of_overlapping_policies(kubectl)
        assert _stop_within(process, 5) < 5
        assert process.stdout is not None
        output = process.stdout.read()
        assert f"kubeconfig: {kubeconfig}" in output
        assert "kubectl apply -k config/default" in output
        started = set(re.findall(r'msg="started in-process" component=(\S+)', output))
        assert started == {"manager", "agent/node-1", "agent/node-2", "agent/node-3"}
    finally:
        if process.poll() is None:
            process.kill()

    first = yaml.safe_load(kubeconfig.read_text())
    kubeconfig.unlink()
    process = _start(state)
    try:
        wait_for(kubeconfig.exists, timeout=30, what="the restarted dev cluster")
        second = yaml.safe_load(kubeconfig.read_text())
        assert second["clusters"][0]["cluster"]["server"].startswith("https://")
        assert second["users"] == first["users"], "the admin token is kept in the state dir"
        assert (
            second["clusters"][0]["cluster"]["certificate-authority-data"]
            == first["clusters"][0]["cluster"]["certificate-authority-data"]
        ), "the CA is kept in the state dir, so clients trusting it keep working"
        kubectl = Kubectl(kubeconfig, tmp_path / "cache")
        assert (
            kubectl("get", "configmap", "remembered", "-o", "name").strip()
            == "configmap/remembered"
        )
        kubectl("create", "deployment", "app", "--image=nginx", "--replicas=2")
        assert "successfully rolled out" in kubectl(
            "rollout", "status", "deploy/app", "--timeout=60s"
        )
        _stop_within(process, 5)
    finally:
        if process.poll() is None:
            process.kill()
