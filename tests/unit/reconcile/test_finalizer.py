"""The Finalizers registry over the fake client, so deletion follows the API server's rules."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.envtest import FakeClient
from reconcile.errors import NotFound
from reconcile.finalizer import FinalizerError, FinalizerFunc, FinalizerResult, Finalizers
from reconcile.gvk import GroupVersionKind

POD = GroupVersionKind("", "v1", "Pod")
RELEASE, AUDIT = "example.com/release", "example.com/audit"


def _pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "finalizers": ["someone.else/keep"]},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def _reconcile(client: FakeClient, finalizers: Finalizers) -> FinalizerResult:
    """The calling pattern the module docstring documents."""
    pod = client.get(POD, "p", "ns")
    result = finalizers.finalize(pod)
    if result.status_updated:
        written = client.status().update(pod)
        pod["metadata"]["resourceVersion"] = written["metadata"]["resourceVersion"]
    if result.updated:
        client.update(pod)
    return result


def test_keys_are_added_to_live_objects_then_run_and_removed_on_deletion() -> None:
    client = FakeClient(objects=[_pod()])
    cleaned: list[str] = []
    finalizers = Finalizers()

    def release(pod: dict[str, Any]) -> FinalizerResult:
        cleaned.append("release")
        pod.setdefault("status", {})["message"] = "slots released"
        return FinalizerResult(status_updated=True)

    finalizers.register(RELEASE, FinalizerFunc(release))
    finalizers.register(AUDIT, FinalizerFunc(lambda pod: cleaned.append("audit")))
    assert finalizers.keys() == [RELEASE, AUDIT]

    assert _reconcile(client, finalizers).updated
    stored = client.get(POD, "p", "ns")
    assert stored["metadata"]["finalizers"] == ["someone.else/keep", RELEASE, AUDIT]
    assert not _reconcile(client, finalizers).updated, "nothing to add twice"

    client.delete(stored)
    result = _reconcile(client, finalizers)
    assert (result.updated, result.status_updated, result.errors) == (True, True, ())
    assert cleaned == ["release", "audit"]
    stored = client.get(POD, "p", "ns")
    assert stored["metadata"]["finalizers"] == ["someone.else/keep"], "others' keys are kept"
    assert stored["status"]["message"] == "slots released"
    assert stored["metadata"]["deletionTimestamp"]

    stored["metadata"]["finalizers"] = []
    client.update(stored)
    with pytest.raises(NotFound):
        client.get(POD, "p", "ns")


def test_a_failing_finalizer_keeps_its_key_and_the_others_still_run() -> None:
    client = FakeClient(objects=[_pod()])
    finalizers = Finalizers()

    def broken(pod: dict[str, Any]) -> FinalizerResult:
        raise RuntimeError("cloud API unavailable")

    finalizers.register(RELEASE, FinalizerFunc(broken))
    finalizers.register(AUDIT, FinalizerFunc(lambda pod: None))
    _reconcile(client, finalizers)
    client.delete(client.get(POD, "p", "ns"))
    result = _reconcile(client, finalizers)
    assert result.updated
    with pytest.raises(FinalizerError, match=r"1 finalizer\(s\) failed.*cloud API unavailable"):
        result.raise_errors()
    assert client.get(POD, "p", "ns")["metadata"]["finalizers"] == ["someone.else/keep", RELEASE]


@pytest.mark.parametrize(("key", "message"), [("", "non-empty"), ("a b", "without spaces")])
def test_bad_keys_are_refused(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Finalizers().register(key, FinalizerFunc(lambda pod: None))


def test_a_key_registers_once() -> None:
    finalizers = Finalizers()
    finalizers.register(RELEASE, FinalizerFunc(lambda pod: None))
    with pytest.raises(ValueError, match="already registered"):
        finalizers.register(RELEASE, FinalizerFunc(lambda pod: None))
