"""kube-apiserver's semantic validation of built-in kinds: what the schema cannot say.

The published schema gives types; kube-apiserver's validation code adds syntax and
cross-field rules, and this module ports the ones clients meet: label and annotation keys
and values, the total annotation size, ConfigMap/Secret keys and sizes, container names
and images, ports and protocols, pod templates that match their selectors, Job restart
policies, Service ports, HPA bounds and Event fields. Each rule yields a cause with
kube-apiserver's field path and wording, so ``kubectl`` prints what users know.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from reconcile.apiserver.validation import DNS_LABEL, DNS_LABEL_MESSAGE, DNS_SUBDOMAIN

__all__ = ["Cause", "validate"]

Cause = dict[str, str]
Rule = Callable[[dict[str, Any]], Iterator[Cause]]

_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
MAX_ANNOTATIONS = 256 * 1024
"""Bytes of all annotation keys and values together (kube's TotalAnnotationSizeLimitB)."""
MAX_DATA = 1024 * 1024
"""Bytes of a ConfigMap's or Secret's data (kube's MaxSecretSize)."""
_PROTOCOLS = ("SCTP", "TCP", "UDP")


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def invalid(field: str, value: Any, detail: str) -> Cause:
    return {
        "reason": "FieldValueInvalid",
        "message": f"Invalid value: {_quote(value)}: {detail}",
        "field": field,
    }


def required(field: str, detail: str = "") -> Cause:
    message = f"Required value: {detail}" if detail else "Required value"
    return {"reason": "FieldValueRequired", "message": message, "field": field}


def unsupported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    choices = ", ".join(f'"{s}"' for s in supported)
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {_quote(value)}: supported values: {choices}",
        "field": field,
    }


def too_long(field: str, limit: int) -> Cause:
    return {
        "reason": "FieldValueTooLong",
        "message": f"Too long: may not be more than {limit} bytes",
        "field": field,
    }


def forbidden(field: str, detail: str) -> Cause:
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def duplicate(field: str, value: Any) -> Cause:
    return {
        "reason": "FieldValueDuplicate",
        "message": f"Duplicate value: {_quote(value)}",
        "field": field,
    }


# metadata


def _qualified_name(field: str, key: str) -> Iterator[Cause]:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        yield invalid(field, key, "prefix part must be a lowercase RFC 1123 subdomain")
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        detail = "name part must be no more than 63 characters" if len(name) > 63 else ""
        yield invalid(field, key, detail or _QUALIFIED_NAME_MSG)


def _labels(field: str, labels: Any) -> Iterator[Cause]:
    for key, value in (labels or {}).items():
        yield from _qualified_name(field, key)
        text = value if isinstance(value, str) else str(value)
        if len(text) > 63:
            yield invalid(f"{field}", text, "must be no more than 63 characters")
        elif not _LABEL_VALUE.match(text):
            yield invalid(f"{field}", text, _LABEL_VALUE_MSG)


def _annotations(field: str, annotations: Any) -> Iterator[Cause]:
    total = 0
    for key, value in (annotations or {}).items():
        yield from _qualified_name(field, key.lower())
        total += len(key) + len(str(value))
    if total > MAX_ANNOTATIONS:
        yield too_long(field, MAX_ANNOTATIONS)


def _owner_references(refs: Any) -> Iterator[Cause]:
    for index, ref in enumerate(refs or []):
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                yield required(f"metadata.ownerReferences[{index}].{key}")


def metadata_causes(meta: dict[str, Any], prefix: str = "metadata") -> Iterator[Cause]:
    yield from _labels(f"{prefix}.labels", meta.get("labels"))
    yield from _annotations(f"{prefix}.annotations", meta.get("annotations"))
    if prefix == "metadata":
        yield from _owner_references(meta.get("ownerReferences"))


# pods


def _port(field: str, value: Any, *, allow_zero: bool = False) -> Iterator[Cause]:
    if value is None or (allow_zero and value == 0):
        return
    if not isinstance(value, int) or not 0 < value < 65536:
        yield invalid(field, value, "must be between 1 and 65535, inclusive")


def _container(field: str, container: dict[str, Any], names: set[str]) -> Iterator[Cause]:
    name = container.get("name") or ""
    if not name:
        yield required(f"{field}.name")
    elif not DNS_LABEL.match(name) or len(name) > 63:
        yield invalid(f"{field}.name", name, DNS_LABEL_MESSAGE)
    elif name in names:
        yield duplicate(f"{field}.name", name)
    names.add(name)
    if not container.get("image"):
        yield required(f"{field}.image")
    policy = container.get("imagePullPolicy")
    if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
        yield unsupported(f"{field}.imagePullPolicy", policy, ("Always", "IfNotPresent", "Never"))
    port_names: set[str] = set()
    for index, port in enumerate(container.get("ports") or []):
        yield from _container_port(f"{field}.ports[{index}]", port, port_names)
    for index, env in enumerate(container.get("env") or []):
        if not env.get("name"):
            yield required(f"{field}.env[{index}].name")


def _container_port(field: str, port: dict[str, Any], names: set[str]) -> Iterator[Cause]:
    if port.get("containerPort") is None:
        yield required(f"{field}.containerPort")
    yield from _port(f"{field}.containerPort", port.get("containerPort"))
    yield from _port(f"{field}.hostPort", port.get("hostPort"), allow_zero=True)
    protocol = port.get("protocol")
    if protocol is not None and protocol not in _PROTOCOLS:
        yield unsupported(f"{field}.protocol", protocol, _PROTOCOLS)
    name = port.get("name")
    if name:
        if len(name) > 15 or not _IANA_SVC_NAME.match(name) or "--" in name:
            yield invalid(f"{field}.name", name, "must be no more than 15 characters")
        elif name in names:
            yield duplicate(f"{field}.name", name)
        names.add(name)


def pod_spec_causes(spec: Any, field: str, restart_policies: tuple[str, ...]) -> Iterator[Cause]:
    spec = spec or {}
    containers = spec.get("containers") or []
    if not containers:
        yield required(f"{field}.containers")
    names: set[str] = set()
    for index, container in enumerate(spec.get("initContainers") or []):
        yield from _container(f"{field}.initContainers[{index}]", container, names)
    for index, container in enumerate(containers):
        yield from _container(f"{field}.containers[{index}]", container, names)
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in restart_policies:
        yield unsupported(f"{field}.restartPolicy", policy, restart_policies)
    dns = spec.get("dnsPolicy")
    dns_policies = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
    if dns is not None and dns not in dns_policies:
        yield unsupported(f"{field}.dnsPolicy", dns, dns_policies)
    volumes: set[str] = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name") or ""
        if not name:
            yield required(f"{field}.volumes[{index}].name")
        elif name in volumes:
            yield duplicate(f"{field}.volumes[{index}].name", name)
        volumes.add(name)


_ALL_RESTARTS = ("Always", "Never", "OnFailure")


def _pod(obj: dict[str, Any]) -> Iterator[Cause]:
    yield from pod_spec_causes(obj.get("spec"), "spec", _ALL_RESTARTS)


def _template(
    obj: dict[str, Any], restart_policies: tuple[str, ...] = ("Always",), field: str = "spec"
) -> Iterator[Cause]:
    template = (obj.get("spec") or {}).get("template") or {}
    yield from metadata_causes(template.get("metadata") or {}, f"{field}.template.metadata")
    yield from pod_spec_causes(template.get("spec"), f"{field}.template.spec", restart_policies)


def _selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator = requirement.get("key"), requirement.get("operator")
        values = requirement.get("values") or []
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and present and labels.get(key) in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _workload(obj: dict[str, Any], *, selector_required: bool = True) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        yield invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    selector = spec.get("selector")
    if selector_required and not selector:
        yield required("spec.selector")
    elif isinstance(selector, dict):
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            yield invalid("spec.selector", selector, "empty selector is invalid for deployment")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not _selector_matches(selector, labels):
            yield invalid(
                "spec.template.metadata.labels",
                ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
                "`selector` does not match template `labels`",
            )
    yield from _template(obj)


def _replication_controller(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        yield invalid(
            "spec.template.metadata.labels",
            ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            "`selector` does not match template `labels`",
        )
    yield from _template(obj)


def _non_negative(spec: dict[str, Any], field: str, *names: str) -> Iterator[Cause]:
    for name in names:
        value = spec.get(name)
        if isinstance(value, int) and value < 0:
            yield invalid(f"{field}.{name}", value, "must be greater than or equal to 0")


def _job(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    yield from _non_negative(spec, "spec", "parallelism", "completions", "backoffLimit")
    yield from _template(obj, ("Never", "OnFailure"))


def _cron_job(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    schedule = spec.get("schedule") or ""
    if schedule and len(schedule.split()) not in (5, 6) and not schedule.startswith("@"):
        yield invalid("spec.schedule", schedule, "unparseable schedule")
    job = spec.get("jobTemplate") or {}
    yield from _template(job, ("Never", "OnFailure"), "spec.jobTemplate.spec")


def _service(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    types = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
    kind = spec.get("type", "ClusterIP")
    if kind not in types:
        yield unsupported("spec.type", kind, types)
    ports = spec.get("ports") or []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        yield required("spec.ports")
    names: set[str] = set()
    for index, port in enumerate(ports):
        field = f"spec.ports[{index}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            yield required(f"{field}.name")
        elif name in names:
            yield duplicate(f"{field}.name", name)
        names.add(name)
        yield from _port(f"{field}.port", port.get("port"))
        yield from _port(f"{field}.nodePort", port.get("nodePort"), allow_zero=True)
        target = port.get("targetPort")
        if isinstance(target, int):
            yield from _port(f"{field}.targetPort", target)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in _PROTOCOLS:
            yield unsupported(f"{field}.protocol", protocol, _PROTOCOLS)


_BASE64_FIELDS = frozenset({"binaryData"})


def _size(value: Any, encoded: bool) -> int:
    """Bytes a value stores: base64 fields count their decoded bytes, as kube does."""
    if not isinstance(value, str):
        return 0
    if encoded:
        return len(value) * 3 // 4 - value[-2:].count("=")
    return len(value.encode())


def _data_keys(obj: dict[str, Any], *fields: str, encoded: bool = False) -> Iterator[Cause]:
    seen: set[str] = set()
    total = 0
    for field in fields:
        for key, value in (obj.get(field) or {}).items():
            if len(key) > 253 or not _CONFIG_KEY.match(key):
                yield invalid(f"{field}[{key}]", key, _CONFIG_KEY_MSG)
            if key in seen:
                yield duplicate(f"{field}[{key}]", key)
            seen.add(key)
            total += _size(value, encoded or field in _BASE64_FIELDS)
    if total > MAX_DATA:
        yield too_long(fields[0], MAX_DATA)


def _config_map(obj: dict[str, Any]) -> Iterator[Cause]:
    yield from _data_keys(obj, "data", "binaryData")


_SECRET_KEYS = {
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _secret(obj: dict[str, Any]) -> Iterator[Cause]:
    yield from _data_keys(obj, "data", encoded=True)
    data = obj.get("data") or {}
    for key in _SECRET_KEYS.get(obj.get("type") or "", ()):
        if key not in data:
            yield required(f"data[{key}]")


def _hpa(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    maximum, minimum = spec.get("maxReplicas"), spec.get("minReplicas")
    if isinstance(maximum, int) and maximum < 1:
        yield invalid("spec.maxReplicas", maximum, "must be greater than or equal to 1")
    if isinstance(minimum, int) and isinstance(maximum, int) and minimum > maximum:
        yield invalid("spec.minReplicas", minimum, "must be less than or equal to maxReplicas")


def _pdb(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")


_EVENTS_V1_REQUIRED = {
    "eventTime": "eventTime",
    "reportingController": "reportingComponent",
    "reportingInstance": "reportingInstance",
    "action": "action",
    "reason": "reason",
}
"""events.k8s.io/v1 field -> its name in the stored core/v1 form this rule sees."""


def _events_v1(obj: dict[str, Any]) -> Iterator[Cause]:
    for name, stored in _EVENTS_V1_REQUIRED.items():
        if not obj.get(stored):
            yield required(name)
    kind = obj.get("type")
    if kind not in ("Normal", "Warning"):
        yield unsupported("type", kind or "", ("Normal", "Warning"))


def _core_event(obj: dict[str, Any]) -> Iterator[Cause]:
    involved = obj.get("involvedObject") or {}
    namespace = (obj.get("metadata") or {}).get("namespace", "")
    if involved.get("namespace") and involved["namespace"] != namespace:
        yield invalid(
            "involvedObject.namespace", involved["namespace"], "does not match event.namespace"
        )


def _api_service(obj: dict[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    name = (obj.get("metadata") or {}).get("name", "")
    expected = f"{spec.get('version', '')}.{spec.get('group', '')}"
    if name != expected:
        yield invalid("metadata.name", name, f'must be "{expected}"')
    for field, upper in (("groupPriorityMinimum", 20000), ("versionPriority", 1000)):
        value = spec.get(field)
        if not isinstance(value, int) or not 0 < value <= upper:
            yield invalid(f"spec.{field}", value, f"must be positive and less than {upper}")


_RULES: dict[tuple[str, str], Rule] = {
    ("", "pods"): _pod,
    ("", "podtemplates"): lambda o: _template({"spec": o}),
    ("", "replicationcontrollers"): _replication_controller,
    ("", "services"): _service,
    ("", "configmaps"): _config_map,
    ("", "secrets"): _secret,
    ("", "events"): _core_event,
    ("apps", "deployments"): _workload,
    ("apps", "replicasets"): _workload,
    ("apps", "daemonsets"): _workload,
    ("apps", "statefulsets"): _workload,
    ("batch", "jobs"): _job,
    ("batch", "cronjobs"): _cron_job,
    ("autoscaling", "horizontalpodautoscalers"): _hpa,
    ("policy", "poddisruptionbudgets"): _pdb,
    ("events.k8s.io", "events"): _events_v1,
    ("apiregistration.k8s.io", "apiservices"): _api_service,
}


def validate(group: str, resource: str, obj: dict[str, Any]) -> list[Cause]:
    """Every semantic cause for a built-in object about to be stored."""
    causes = list(metadata_causes(obj.get("metadata") or {}))
    rule = _RULES.get((group, resource))
    if rule is not None:
        causes.extend(rule(obj))
    return causes
