"""A controller's cache run as a ServiceAccount with only the permissions its RBAC grants."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.cache import CacheOptions, InformerCache, ReflectorOptions
from reconcile.client import Client, RestConfig
from reconcile.envtest import Environment
from reconcile.errors import CacheSyncTimeout
from reconcile.gvk import GroupVersionKind
from tests.waiting import wait_for

POD = GroupVersionKind("", "v1", "Pod")
ROLE = GroupVersionKind("rbac.authorization.k8s.io", "v1", "Role")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Environment, Path]]:
    monkeypatch.delenv("USE_EXISTING_CLUSTER", raising=False)
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    environment = Environment()
    with environment as kubeconfig:
        yield environment, kubeconfig


def test_cache_sync_failure_names_the_missing_rbac_verb(
    environment: tuple[Environment, Path],
) -> None:
    env, kubeconfig = environment
    admin = Client(RestConfig.from_kubeconfig(kubeconfig))
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "controller", "namespace": "team"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    admin.create(role)
    admin.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "controller", "namespace": "team"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": "controller"},
            "subjects": [{"kind": "ServiceAccount", "name": "controller", "namespace": "team"}],
        }
    )  # fmt: skip
    identity = RestConfig.from_kubeconfig(env.service_account_kubeconfig("team", "controller"))
    stop = threading.Event()
    cache = InformerCache(
        Client(identity),
        CacheOptions(
            namespace="team",
            sync_timeout=1.0,
            reflector=ReflectorOptions(initial_backoff=0.05, max_backoff=0.2),
        ),
    )
    threading.Thread(target=cache.start, args=(stop,), daemon=True).start()
    try:
        with pytest.raises(
            CacheSyncTimeout,
            match=r'User "system:serviceaccount:team:controller" cannot list resource "pods" in '
            r'API group "" in the namespace "team"\); grant list and watch on Pod',
        ):
            cache.list(POD)
        admin.patch(role, {"rules": [{"apiGroups": [""], "resources": ["pods"],
                                      "verbs": ["get", "list"]}]})  # fmt: skip
        wait_for(
            lambda: 'cannot watch resource "pods"' in str(cache.get_informer(POD).last_error),
            timeout=10,
            what="the watch to be refused once list is allowed",
        )
    finally:
        stop.set()
