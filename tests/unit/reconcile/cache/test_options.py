"""How cache options resolve to the scopes each kind is listed and watched in."""

from __future__ import annotations

import pytest

from reconcile.cache import (
    ALL_NAMESPACES,
    CacheOptions,
    KindOptions,
    ListScope,
    NamespaceConfig,
    strip_managed_fields,
)
from reconcile.cache.options import scopes_for
from reconcile.gvk import GroupVersionKind

POD = GroupVersionKind("", "v1", "Pod")
NODE = GroupVersionKind("", "v1", "Node")


def _upper(obj: dict[str, object]) -> dict[str, object]:
    return obj


def test_unrestricted_is_one_cluster_wide_scope_with_the_defaults() -> None:
    options = CacheOptions(default_label_selector={"team": "a"}, default_field_selector="x=y")
    assert scopes_for(options, POD, namespaced=True) == [
        ListScope(None, "team=a", "x=y", strip_managed_fields)
    ]


def test_default_namespaces_each_with_their_own_selectors() -> None:
    options = CacheOptions(
        default_namespaces={
            "team-a": NamespaceConfig(),
            "team-b": NamespaceConfig(label_selector="app=web", transform=_upper),
        },
        default_label_selector="managed=true",
    )
    assert scopes_for(options, POD, namespaced=True) == [
        ListScope("team-a", "managed=true", None, strip_managed_fields),
        ListScope("team-b", "app=web", None, _upper),
    ]


def test_all_other_namespaces_excludes_the_listed_ones() -> None:
    options = CacheOptions(
        default_namespaces={ALL_NAMESPACES: NamespaceConfig(), "special": NamespaceConfig()}
    )
    everywhere, special = scopes_for(options, POD, namespaced=True)
    assert everywhere.namespace is None
    assert everywhere.field_selector == "metadata.namespace!=special"
    assert special.namespace == "special"
    assert everywhere.holds({"metadata": {"namespace": "other"}})
    assert not everywhere.holds({"metadata": {"namespace": "special"}})


def test_kind_options_win_over_cache_defaults() -> None:
    options = CacheOptions(
        default_namespaces={"team-a": NamespaceConfig()},
        default_label_selector="managed=true",
        by_kind={POD: KindOptions(namespace="only", label_selector="app=db")},
    )
    assert scopes_for(options, POD, namespaced=True) == [
        ListScope("only", "app=db", None, strip_managed_fields)
    ]


def test_cluster_scoped_kinds_ignore_namespaces() -> None:
    options = CacheOptions(default_namespaces={"team-a": NamespaceConfig()})
    assert [s.namespace for s in scopes_for(options, NODE, namespaced=False)] == [None]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(
            lambda: CacheOptions(namespace="a", default_namespaces={"b": NamespaceConfig()}),
            "not both",
            id="namespace-and-namespaces",
        ),
        pytest.param(
            lambda: KindOptions(namespace="a", namespaces={"b": NamespaceConfig()}),
            "not both",
            id="kind-namespace-and-namespaces",
        ),
        pytest.param(lambda: CacheOptions(sync_period=0), "sync_period", id="zero-resync"),
    ],
)
def test_bad_combinations_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]
