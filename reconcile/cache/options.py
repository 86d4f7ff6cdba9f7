"""What the cache watches: namespaces, selectors and transforms, cluster-wide and per kind.

Restricting the cache is how an operator runs with RoleBindings in a few namespaces rather
than a ClusterRole, and how it keeps memory in check. Each kind is watched in one or more
*scopes* (a namespace, or all namespaces, with its label and field selectors and
transform). Settings resolve from the most specific to the least, as in controller-runtime:

1. ``KindOptions.namespaces[ns]`` (a ``NamespaceConfig`` for one namespace of one kind);
2. ``KindOptions`` (label/field selector, transform of one kind);
3. ``CacheOptions.default_namespaces[ns]``;
4. ``CacheOptions.default_label_selector`` / ``default_field_selector`` /
   ``default_transform``.

A namespace map may contain ``ALL_NAMESPACES`` (""): every namespace not listed otherwise,
watched cluster-wide with a field selector excluding the listed ones. Cluster-scoped kinds
ignore namespaces and are always watched cluster-wide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconcile.cache.informer import strip_managed_fields
from reconcile.cache.reflector import ReflectorOptions
from reconcile.cache.scope import ListScope, Transform
from reconcile.client.client import label_selector_string
from reconcile.gvk import GroupVersionKind

__all__ = [
    "ALL_NAMESPACES",
    "DEFAULT_SYNC_PERIOD",
    "CacheOptions",
    "KindOptions",
    "ListScope",
    "NamespaceConfig",
    "WatchErrorHandler",
    "scopes_for",
]

WatchErrorHandler = Callable[[GroupVersionKind, BaseException], None]
"""Called with the kind and the error each time a list or watch fails (client-go's
``SetWatchErrorHandler``); it runs on the informer's thread, so it must be quick."""

ALL_NAMESPACES = ""
"""Key of a namespace map meaning every namespace not listed (``cache.AllNamespaces``)."""

DEFAULT_SYNC_PERIOD = 10 * 3600.0
"""controller-runtime's SyncPeriod: every cached object is re-delivered about every 10 h."""


@dataclass(frozen=True, kw_only=True, slots=True)
class NamespaceConfig:
    """Selectors and transform for one namespace; None falls back to the less specific."""

    label_selector: str | Mapping[str, str] | None = None
    field_selector: str | None = None
    transform: Transform | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class KindOptions:
    """Restrictions for one kind's informer (fewer objects cached, less memory)."""

    namespace: str | None = None
    """Watch only this namespace (shorthand for ``namespaces={ns: NamespaceConfig()}``)."""
    namespaces: Mapping[str, NamespaceConfig] | None = None
    """Watch only these namespaces, each with its own settings; overrides the cache's
    ``default_namespaces`` for this kind."""
    label_selector: str | Mapping[str, str] | None = None
    field_selector: str | None = None
    transform: Transform | None = None

    def __post_init__(self) -> None:
        if self.namespace is not None and self.namespaces is not None:
            raise ValueError("set KindOptions.namespace or KindOptions.namespaces, not both")


@dataclass(frozen=True, kw_only=True)
class CacheOptions:
    """How the cache watches. Usage::

    CacheOptions(default_namespaces={"team-a": NamespaceConfig(),
                                     "team-b": NamespaceConfig(label_selector="app=web")})
    """

    namespace: str | None = None
    """Watch only this namespace (namespaced kinds); None watches all namespaces. Shorthand
    for ``default_namespaces={namespace: NamespaceConfig()}``."""
    default_namespaces: Mapping[str, NamespaceConfig] | None = None
    """Watch only these namespaces (each with its own selectors and transform); None
    watches all. One informer per kind still serves them all, one list/watch each."""
    by_kind: Mapping[GroupVersionKind, KindOptions] = field(default_factory=dict)
    """Per-kind restrictions, overriding the defaults."""
    default_label_selector: str | Mapping[str, str] | None = None
    """Label selector of every kind without its own (e.g. only objects labelled by you)."""
    default_field_selector: str | None = None
    """Field selector of every kind without its own."""
    default_transform: Transform | None = strip_managed_fields
    """Applied to every object before it is stored; drops managedFields by default."""
    sync_period: float | None = DEFAULT_SYNC_PERIOD
    """Seconds between resyncs: every cached object is delivered again as an update (old
    and new the same), so controllers re-check objects no event touched. Each informer
    jitters its period by +-10% so resyncs do not all land at once. None disables it."""
    reader_fail_on_missing_informer: bool = False
    """Reads (get/list) of a kind the cache has no informer for raise ``NotCached`` instead
    of starting one (controller-runtime's ``ReaderFailOnMissingInformer``): no surprise
    cluster-wide watch, and no RBAC failure at run time for a kind nobody asked to cache."""
    watch_error_handler: WatchErrorHandler | None = None
    """Called on every failed list or watch, in addition to the informer's own log."""
    sync_timeout: float = 120.0
    """Seconds a read waits for its kind's first list before CacheSyncTimeout."""
    reflector: ReflectorOptions = field(default_factory=ReflectorOptions)
    """Timing of each kind's list and watch; ``reflector.tune_gc`` speeds large initial lists
    up by pausing the process's garbage collector (off by default: it is process-wide)."""
    shutdown_timeout: float = 30.0
    """Seconds ``start`` waits, once stopped, for informers to finish an in-flight list."""

    def __post_init__(self) -> None:
        if self.namespace is not None and self.default_namespaces is not None:
            raise ValueError(
                "set CacheOptions.namespace or CacheOptions.default_namespaces, not both"
            )
        if self.sync_period is not None and not self.sync_period > 0:
            raise ValueError(
                f"sync_period must be > 0 seconds (None disables resync), got {self.sync_period}"
            )


def _and(*selectors: str | None) -> str | None:
    joined = ",".join(s for s in selectors if s)
    return joined or None


def scopes_for(options: CacheOptions, gvk: GroupVersionKind, namespaced: bool) -> list[ListScope]:
    """The scopes one kind is watched in (a single cluster-wide scope when unrestricted)."""
    kind = options.by_kind.get(gvk, KindOptions())
    label = (
        kind.label_selector if kind.label_selector is not None else options.default_label_selector
    )
    fields = kind.field_selector or options.default_field_selector
    transform = kind.transform or options.default_transform
    namespaces = _namespace_map(options, kind) if namespaced else None
    if not namespaces:
        return [ListScope(None, label_selector_string(label), fields, transform)]
    listed = frozenset(ns for ns in namespaces if ns != ALL_NAMESPACES)
    scopes = []
    for namespace, config in sorted(namespaces.items()):
        scope_label = config.label_selector if config.label_selector is not None else label
        scope_fields = config.field_selector or fields
        scope_transform = config.transform or transform
        if namespace == ALL_NAMESPACES:
            exclusions = ",".join(f"metadata.namespace!={ns}" for ns in sorted(listed))
            scopes.append(
                ListScope(
                    None,
                    label_selector_string(scope_label),
                    _and(scope_fields, exclusions),
                    scope_transform,
                    listed,
                )
            )
        else:
            scopes.append(
                ListScope(
                    namespace, label_selector_string(scope_label), scope_fields, scope_transform
                )
            )
    return scopes


def _namespace_map(options: CacheOptions, kind: KindOptions) -> Mapping[str, NamespaceConfig]:
    if kind.namespaces is not None:
        return kind.namespaces
    if kind.namespace:
        return {kind.namespace: NamespaceConfig()}
    if options.default_namespaces is not None:
        return options.default_namespaces
    if options.namespace:
        return {options.namespace: NamespaceConfig()}
    return {}
