"""Field ownership (``metadata.managedFields``) and server-side apply.

Every write records which manager set which fields, as FieldsV1 sets. Paths are built the
structured-merge-diff way: ``f:<name>`` for object fields, ``k:{"name":"web"}`` for items
of lists keyed by a map key (``x-kubernetes-list-type: map`` in a CRD, the strategic-merge
keys for built-ins), ``v:<value>`` for items of sets; any other list is atomic, owned as a
whole.

Server-side apply (``apply``) then works on those sets:

- a field another manager owns with a *different* value is a conflict (409, naming the
  manager and the field) unless ``force``, which takes the field over;
- equal values are shared: both managers own the field;
- a field this manager applied before and no longer applies is removed, unless another
  manager still owns it;
- applying what is already there changes nothing, not even timestamps, so the object keeps
  its resourceVersion.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from typing import Any

from reconcile.apiserver.patch import PatchError, merge_key
from reconcile.timestamps import rfc3339

__all__ = ["ApplyConflict", "apply", "changed_fields", "fields_of", "record_update"]

Path = tuple[str, ...]
_IGNORED_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)
_SET_LISTS = frozenset({"finalizers"})


class ApplyConflict(PatchError):
    """409: the applied configuration changes fields another manager owns."""


def _list_keys(field: str, schema: dict[str, Any] | None, items: list[Any]) -> list[str] | None:
    if schema is not None:
        if schema.get("x-kubernetes-list-type") == "map":
            return list(schema.get("x-kubernetes-list-map-keys") or [])
        if schema.get("x-kubernetes-list-type") in ("atomic", "set"):
            return None
    key = merge_key(field, items) if all(isinstance(i, dict) for i in items) else None
    return [key] if key else None


def _child_schema(schema: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if schema is None:
        return None
    props = schema.get("properties") or {}
    if name in props:
        return props[name]  # type: ignore[no-any-return]
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, dict) else None


def _paths(value: Any, schema: dict[str, Any] | None, prefix: Path, field: str) -> Iterator[Path]:
    if isinstance(value, dict) and value:
        for name, child in value.items():
            yield from _paths(child, _child_schema(schema, name), (*prefix, f"f:{name}"), name)
        return
    if isinstance(value, list) and value:
        is_set = field in _SET_LISTS or (schema or {}).get("x-kubernetes-list-type") == "set"
        if is_set and all(not isinstance(i, dict | list) for i in value):
            for item in value:
                yield (*prefix, "v:" + json.dumps(item, separators=(",", ":")))
            return
        keys = _list_keys(field, schema, value)
        if keys:
            items_schema = (schema or {}).get("items") if schema else None
            for item in value:
                identity = {k: item.get(k) for k in keys}
                element = "k:" + json.dumps(identity, separators=(",", ":"), sort_keys=True)
                yield (*prefix, element, ".")
                yield from _paths(item, items_schema, (*prefix, element), field)
            return
    yield prefix


def fields_of(obj: dict[str, Any], schema: dict[str, Any] | None) -> set[Path]:
    """Leaf paths an object sets (identity and server-owned metadata excluded)."""
    paths: set[Path] = set()
    for name, value in obj.items():
        if name in ("apiVersion", "kind"):
            continue
        if name == "metadata":
            for key, child in (value or {}).items():
                if key not in _IGNORED_META:
                    paths.update(_paths(child, None, ("f:metadata", f"f:{key}"), key))
            continue
        paths.update(_paths(value, _child_schema(schema, name), (f"f:{name}",), name))
    return paths


def to_fieldsv1(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    return root


def from_fieldsv1(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for element, child in fields.items():
        path = (*prefix, element)
        if child:
            paths |= from_fieldsv1(child, path)
        else:
            paths.add(path)
    return paths


@functools.lru_cache(maxsize=4096)
def _element(raw: str) -> Any:
    """A ``k:``/``v:`` path element's JSON, parsed once (paths repeat on every write).
    Callers only read the result."""
    return json.loads(raw)


def _value_at(obj: Any, path: Path) -> Any:
    node = obj
    for element in path:
        if element == ".":
            return node
        kind, _, raw = element.partition(":")
        if kind == "f" and isinstance(node, dict) and raw in node:
            node = node[raw]
        elif kind == "k" and isinstance(node, list):
            identity = _element(raw)
            node = next(
                (
                    i
                    for i in node
                    if isinstance(i, dict) and all(i.get(k) == v for k, v in identity.items())
                ),
                _ABSENT,
            )
        elif kind == "v" and isinstance(node, list):
            value = _element(raw)
            node = value if value in node else _ABSENT
        else:
            return _ABSENT
        if node is _ABSENT:
            return _ABSENT
    return node


_ABSENT = object()


class _Lookup:
    """``_value_at`` for many paths of one object, each prefix resolved once and list-map
    items found through an index instead of a scan: a status holding a list map of a
    hundred entries has thousands of leaf paths, and scanning per path is quadratic."""

    def __init__(self, obj: Any) -> None:
        self._nodes: dict[Path, Any] = {(): obj}
        self._indexes: dict[tuple[int, tuple[str, ...]], dict[str, Any]] = {}

    def __call__(self, path: Path) -> Any:
        if path in self._nodes:
            return self._nodes[path]
        parent = self(path[:-1])
        node = _ABSENT if parent is _ABSENT else self._step(parent, path[-1])
        self._nodes[path] = node
        return node

    def _step(self, node: Any, element: str) -> Any:
        kind, _, raw = element.partition(":")
        if kind != "k" or not isinstance(node, list):
            return _value_at(node, (element,))
        identity = json.loads(raw)
        keys = tuple(identity)
        index = self._indexes.get((id(node), keys))
        if index is None:
            index = self._indexes[(id(node), keys)] = {}
            for item in node:
                if isinstance(item, dict):
                    index.setdefault(json.dumps([item.get(k) for k in keys]), item)
        return index.get(json.dumps([identity[k] for k in keys]), _ABSENT)


def _entries(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(e) for e in (obj.get("metadata") or {}).get("managedFields") or []]


def _rebuild(
    entries: list[tuple[dict[str, Any], set[Path]]], old_sets: dict[int, set[Path]]
) -> list[dict[str, Any]]:
    result = []
    for index, (entry, paths) in enumerate(entries):
        if not paths:
            continue
        if old_sets.get(index) != paths:
            result.append({**entry, "time": rfc3339(), "fieldsV1": to_fieldsv1(paths)})
        else:
            result.append(entry)
    return result


def changed_fields(
    before: dict[str, Any], after: dict[str, Any], schema: dict[str, Any] | None
) -> set[Path]:
    """Leaf paths ``after`` sets to a value ``before`` does not have there."""
    in_after, in_before = _Lookup(after), _Lookup(before)
    return {p for p in fields_of(after, schema) if in_after(p) != in_before(p)}


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    schema: dict[str, Any] | None,
    *,
    subresource: str = "",
    changed: set[Path] | None = None,
) -> None:
    """Give ``manager`` (operation Update) the fields this write changed; set managedFields.

    ``changed`` names those fields when the caller knows them better than a comparison
    with ``old`` (the fields a mutating admission webhook set); ``old`` may then be None
    and the ownership of every other field stays as ``new`` records it.
    """
    new_fields = fields_of(new, schema)
    if changed is not None:
        changed = changed & new_fields
    elif old is None:
        changed = new_fields
    else:
        in_new, in_old = _Lookup(new), _Lookup(old)
        changed = {p for p in new_fields if in_new(p) != in_old(p)}
    entries = [(e, from_fieldsv1(e.get("fieldsV1") or {})) for e in _entries(old or new)]
    old_sets = {i: set(paths) for i, (_, paths) in enumerate(entries)}
    live_entries = []
    mine = None
    for entry, owned in entries:
        paths = owned & new_fields
        is_mine = (entry.get("manager"), entry.get("operation"), entry.get("subresource", "")) == (
            manager,
            "Update",
            subresource,
        )
        if is_mine:
            mine = (entry, paths | changed)
            live_entries.append(mine)
        else:
            live_entries.append((entry, paths - changed))
    if mine is None and changed:
        entry = {
            "manager": manager,
            "operation": "Update",
            "apiVersion": new.get("apiVersion", ""),
            "fieldsType": "FieldsV1",
        }
        if subresource:
            entry["subresource"] = subresource
        live_entries.append((entry, set(changed)))
    managed = _rebuild(live_entries, old_sets)
    if managed:
        new["metadata"]["managedFields"] = managed
    else:
        new["metadata"].pop("managedFields", None)


def _merge(live: Any, applied: Any, field: str, schema: dict[str, Any] | None) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict):
        result = dict(live)
        for name, value in applied.items():
            result[name] = _merge(live.get(name), value, name, _child_schema(schema, name))
        return result
    if isinstance(live, list) and isinstance(applied, list):
        keys = _list_keys(field, schema, live + applied)
        if keys:
            items_schema = (schema or {}).get("items")
            merged = [copy.deepcopy(i) for i in live]
            for item in applied:
                index = next(
                    (n for n, i in enumerate(merged) if all(i.get(k) == item.get(k) for k in keys)),
                    None,
                )
                if index is None:
                    merged.append(copy.deepcopy(item))
                else:
                    merged[index] = _merge(merged[index], item, field, items_schema)
            return merged
        if field in _SET_LISTS or (schema or {}).get("x-kubernetes-list-type") == "set":
            return list(live) + [v for v in applied if v not in live]
    return copy.deepcopy(applied)


def _remove(obj: Any, path: Path) -> None:
    if not path:
        return
    parent = _value_at(obj, path[:-1]) if len(path) > 1 else obj
    last = path[-1]
    if last == ".":
        _remove(obj, path[:-1])
        return
    kind, _, raw = last.partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(raw, None)
    elif kind == "k" and isinstance(parent, list):
        identity = json.loads(raw)
        parent[:] = [
            i
            for i in parent
            if not (isinstance(i, dict) and all(i.get(k) == v for k, v in identity.items()))
        ]
    elif kind == "v" and isinstance(parent, list):
        value = json.loads(raw)
        parent[:] = [i for i in parent if i != value]


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    *,
    manager: str,
    force: bool,
    schema: dict[str, Any] | None,
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` over ``live`` (None: create)."""
    applied_fields = fields_of(applied, schema)
    base = copy.deepcopy(live) if live is not None else {"metadata": {}}
    entries = [(e, from_fieldsv1(e.get("fieldsV1") or {})) for e in _entries(base)]
    old_sets = {i: set(paths) for i, (_, paths) in enumerate(entries)}
    conflicts: list[tuple[str, str, Path]] = []
    previous: set[Path] = set()
    for entry, paths in entries:
        if (entry.get("manager"), entry.get("operation")) == (manager, "Apply"):
            previous = set(paths)
            continue
        for path in paths & applied_fields:
            if path[-1] == ".":
                continue  # both sides have the item: membership never conflicts
            if _value_at(base, path) != _value_at(applied, path):
                conflicts.append(
                    (str(entry.get("manager")), str(entry.get("apiVersion", "")), path)
                )
    if conflicts and not force:
        lines = sorted({f'conflict with "{m}" using {v}: .{_dotted(p)}' for m, v, p in conflicts})
        noun = "conflict" if len(lines) == 1 else "conflicts"
        message = f"Apply failed with {len(lines)} {noun}: " + "\n".join(lines)
        raise ApplyConflict(409, message)
    taken = {p for _, _, p in conflicts}
    merged = _merge(base, applied, "", schema)
    others = (
        set().union(
            *(
                paths
                for e, paths in entries
                if (e.get("manager"), e.get("operation")) != (manager, "Apply")
            )
        )
        - taken
    )
    # A path still present as the parent of an applied (or another manager's) field stays:
    # a list applied empty before (a leaf) and with items now is kept, items and all.
    parents = {path[:i] for path in applied_fields | others for i in range(1, len(path))}
    removed = previous - applied_fields - others - parents
    # Whole list items first (their "." path), then leftover fields, deepest first.
    for path in sorted((p for p in removed if p[-1] == "."), key=len):
        _remove(merged, path)
    for path in sorted((p for p in removed if p[-1] != "."), key=len, reverse=True):
        _remove(merged, path)
    new_entries = []
    found = False
    for entry, paths in entries:
        if (entry.get("manager"), entry.get("operation")) == (manager, "Apply"):
            new_entries.append((entry, set(applied_fields)))
            found = True
        else:
            new_entries.append((entry, paths - taken))
    if not found:
        entry = {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": applied.get("apiVersion", ""),
            "fieldsType": "FieldsV1",
        }
        new_entries.append((entry, set(applied_fields)))
    merged.setdefault("metadata", {})["managedFields"] = _rebuild(new_entries, old_sets)
    return merged  # type: ignore[no-any-return]


def _dotted(path: Path) -> str:
    parts = []
    for element in path:
        kind, _, raw = element.partition(":")
        if kind == "f":
            parts.append(raw)
        elif kind in ("k", "v"):
            parts.append(f"[{raw}]")
    return ".".join(parts).replace(".[", "[")
