"""Regenerate ``reconcile/apiserver/protobuf_fields.json`` from Kubernetes' published protos.

Kubernetes publishes the protobuf wire format of every API type as ``generated.proto``
files in the ``k8s.io/api`` and ``k8s.io/apimachinery`` repositories. This script reads
them and writes, for the kinds the embedded API server serves (and DeleteOptions), every
reachable message's field numbers, JSON names, types and repetition: the table
``reconcile/apiserver/protobuf.py`` decodes request bodies with (objects, and the review
and TokenRequest bodies of ``kubectl auth can-i|whoami`` and ``kubectl create token``).

What the protos do not say is read from the Go types beside them (``types.go`` and the
package's other non-generated files), matched by field number: an embedded struct whose
JSON name is empty (``json:",inline"``, ``json:""``) has its fields at its parent's level
in JSON; a field whose JSON name differs from its proto name (``uID``) takes the JSON name
(``uid``); and a message that wraps a Go ``[]string`` (``ExtraValue``) is a plain list in
JSON.

Usage::

    python tools/protobuf_fields.py --api ../api --apimachinery ../apimachinery
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

_PREFIXES = (
    "k8s.io.api.",
    "k8s.io.apimachinery.pkg.apis.",
    "k8s.io.apimachinery.pkg.api.",
    "k8s.io.apimachinery.pkg.util.",
    "k8s.io.apimachinery.pkg.",
)
_SPECIAL = {
    "meta.v1.Time": "time",
    "meta.v1.MicroTime": "microtime",
    "meta.v1.Duration": "duration",
    "meta.v1.FieldsV1": "rawjson",
    "resource.Quantity": "quantity",
    "intstr.IntOrString": "intorstring",
    "runtime.RawExtension": "rawjson",
}
_SCALARS = {
    "string": "string",
    "bool": "bool",
    "int32": "int",
    "int64": "int",
    "bytes": "bytes",
    "double": "double",
    "float": "double",
}
_FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;")
_MAP = re.compile(r"^\s*map<\s*string\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")
_GO_STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*\{(.*?)^\}", re.M | re.S)
_GO_TAGS = re.compile(r'`[^`]*json:"([^"]*)"[^`]*protobuf:"\w+,(\d+),[^"]*"[^`]*`')
_GO_STRING_LIST = re.compile(r"^type\s+(\w+)\s+\[\]string\s*$", re.M)
_GO_SKIPPED = ("_test.go", "generated.pb.go", "_swagger_doc_generated.go")
_ROOTS = {
    "v1/Namespace": "core.v1.Namespace",
    "v1/Pod": "core.v1.Pod",
    "v1/Node": "core.v1.Node",
    "v1/Event": "core.v1.Event",
    "v1/ConfigMap": "core.v1.ConfigMap",
    "v1/Secret": "core.v1.Secret",
    "v1/ServiceAccount": "core.v1.ServiceAccount",
    "v1/Service": "core.v1.Service",
    "v1/Endpoints": "core.v1.Endpoints",
    "v1/PersistentVolumeClaim": "core.v1.PersistentVolumeClaim",
    "v1/PersistentVolume": "core.v1.PersistentVolume",
    "v1/ReplicationController": "core.v1.ReplicationController",
    "v1/PodTemplate": "core.v1.PodTemplate",
    "v1/ResourceQuota": "core.v1.ResourceQuota",
    "v1/DeleteOptions": "meta.v1.DeleteOptions",
    "meta.k8s.io/v1/DeleteOptions": "meta.v1.DeleteOptions",
    "apps/v1/Deployment": "apps.v1.Deployment",
    "apps/v1/ReplicaSet": "apps.v1.ReplicaSet",
    "apps/v1/DaemonSet": "apps.v1.DaemonSet",
    "apps/v1/StatefulSet": "apps.v1.StatefulSet",
    "apps/v1/ControllerRevision": "apps.v1.ControllerRevision",
    "batch/v1/Job": "batch.v1.Job",
    "batch/v1/CronJob": "batch.v1.CronJob",
    "coordination.k8s.io/v1/Lease": "coordination.v1.Lease",
    "events.k8s.io/v1/Event": "events.v1.Event",
    "discovery.k8s.io/v1/EndpointSlice": "discovery.v1.EndpointSlice",
    "policy/v1/PodDisruptionBudget": "policy.v1.PodDisruptionBudget",
    "policy/v1/Eviction": "policy.v1.Eviction",
    "autoscaling/v1/Scale": "autoscaling.v1.Scale",
    "autoscaling/v2/HorizontalPodAutoscaler": "autoscaling.v2.HorizontalPodAutoscaler",
    "autoscaling/v1/HorizontalPodAutoscaler": "autoscaling.v1.HorizontalPodAutoscaler",
    "rbac.authorization.k8s.io/v1/Role": "rbac.v1.Role",
    "rbac.authorization.k8s.io/v1/RoleBinding": "rbac.v1.RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRole": "rbac.v1.ClusterRole",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "rbac.v1.ClusterRoleBinding",
    "authentication.k8s.io/v1/TokenRequest": "authentication.v1.TokenRequest",
    "authentication.k8s.io/v1/TokenReview": "authentication.v1.TokenReview",
    "authentication.k8s.io/v1/SelfSubjectReview": "authentication.v1.SelfSubjectReview",
    "authorization.k8s.io/v1/SubjectAccessReview": "authorization.v1.SubjectAccessReview",
    "authorization.k8s.io/v1/LocalSubjectAccessReview": "authorization.v1.LocalSubjectAccessReview",
    "authorization.k8s.io/v1/SelfSubjectAccessReview": "authorization.v1.SelfSubjectAccessReview",
    "authorization.k8s.io/v1/SelfSubjectRulesReview": "authorization.v1.SelfSubjectRulesReview",
}


def _short(name: str) -> str:
    name = name.lstrip(".")
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _type(raw: str, package: str) -> str:
    if raw in _SCALARS:
        return _SCALARS[raw]
    qualified = _short(raw) if "." in raw else f"{package}.{raw}"
    return _SPECIAL.get(qualified, qualified)


_GoNames = dict[tuple[str, str], str]
"""(message, field number) -> JSON name as Go's tags give it, "" for an embedded struct."""


def _go_names(directory: Path, package: str, lists: set[str]) -> _GoNames:
    """JSON names of the fields whose proto name says otherwise, from the Go sources."""
    names: _GoNames = {}
    for path in sorted(directory.glob("*.go")):
        if path.name.endswith(_GO_SKIPPED) or path.name.startswith("zz_generated"):
            continue
        text = path.read_text()
        lists.update(f"{package}.{name}" for name in _GO_STRING_LIST.findall(text))
        for struct, body in _GO_STRUCT.findall(text):
            for json_tag, number in _GO_TAGS.findall(body):
                names[(f"{package}.{struct}", number)] = json_tag.partition(",")[0]
    return names


def _parse(
    path: Path, messages: dict[str, dict[str, Any]], go_names: _GoNames, lists: set[str]
) -> None:
    text = path.read_text()
    package = _short(re.search(r"^package\s+([\w.]+);", text, re.M).group(1))  # type: ignore[union-attr]
    go_names.update(_go_names(path.parent, package, lists))
    current: dict[str, Any] | None = None
    depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//") or not stripped:
            continue
        start = re.match(r"^message\s+(\w+)\s*\{", stripped)
        if start and depth == 0:
            current = messages.setdefault(f"{package}.{start.group(1)}", {})
            depth = 1
            continue
        if depth and stripped.startswith("message "):
            depth += 1  # nested messages are not used by the kinds served here
            continue
        if stripped == "}":
            depth = max(0, depth - 1)
            if depth == 0:
                current = None
            continue
        if current is None or depth != 1:
            continue
        field = _FIELD.match(line)
        if field:
            label, kind, name, number = field.groups()
            current[number] = [name, _type(kind, package), label == "repeated"]
            continue
        mapped = _MAP.match(line)
        if mapped:
            kind, name, number = mapped.groups()
            current[number] = [name, "map:" + _type(kind, package), False]


def _reachable(
    messages: dict[str, dict[str, Any]], go_names: _GoNames, lists: set[str]
) -> dict[str, dict[str, Any]]:
    keep: dict[str, dict[str, Any]] = {}
    pending = list(_ROOTS.values())
    while pending:
        name = pending.pop()
        if name in keep or name not in messages:
            continue
        fields = messages[name]
        for number, field in fields.items():
            if field[1] in lists:
                field[1] = "stringlist"
            elif field[1].startswith("map:") and field[1][4:] in lists:
                field[1] = "map:stringlist"
            json_name = go_names.get((name, number))
            if json_name == "":
                field.append(True)
            elif json_name is not None and json_name != "-":
                field[0] = json_name
        keep[name] = fields
        for _, kind, _repeated, *_ in fields.values():
            target = kind[4:] if kind.startswith("map:") else kind
            if target in messages:
                pending.append(target)
    return dict(sorted(keep.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, type=Path, help="a k8s.io/api checkout")
    parser.add_argument("--apimachinery", required=True, type=Path, help="k8s.io/apimachinery")
    parser.add_argument(
        "--out", type=Path, default=Path("reconcile/apiserver/protobuf_fields.json")
    )
    args = parser.parse_args()
    messages: dict[str, dict[str, Any]] = {}
    go_names: _GoNames = {}
    lists: set[str] = set()
    for root in (args.api, args.apimachinery):
        for path in sorted(root.rglob("generated.proto")):
            _parse(path, messages, go_names, lists)
    missing = [root for root in _ROOTS.values() if root not in messages]
    if missing:
        raise SystemExit(f"messages not found in the protos: {missing}")
    reachable = _reachable(messages, go_names, lists)
    table = {"roots": _ROOTS, "messages": reachable}
    args.out.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(reachable)} messages to {args.out}")


if __name__ == "__main__":
    main()
