"""Discovery lists a group's versions in kube's priority order: the first is preferred."""

from __future__ import annotations

from reconcile.apiserver.registry import version_priority


def test_versions_sort_in_kube_priority_order() -> None:
    versions = ["v1alpha1", "foo", "v1beta1", "v2", "v1", "v1beta2", "v2alpha1", "v10", "bar"]
    assert sorted(versions, key=version_priority) == [
        "v10", "v2", "v1", "v1beta2", "v1beta1", "v2alpha1", "v1alpha1", "bar", "foo",
    ]  # fmt: skip
