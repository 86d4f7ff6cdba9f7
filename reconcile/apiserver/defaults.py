"""Defaults kube-apiserver fills in for built-in kinds, and what it sets on create.

The values are kube-apiserver 1.32's defaulting functions (and the admission plugins every
cluster runs: ServiceAccount, DefaultTolerationSeconds, Priority), so an object read back
looks like one from a real cluster and the Python client's models find every field they
expect (``d.spec.strategy.type``). Services get a cluster IP from ``SERVICE_CIDR`` and, for
NodePort/LoadBalancer, node ports from 30000-32767, unique among stored Services.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["SERVICE_CIDR", "apply_defaults", "create_status", "qos_class", "secret_data"]

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
"""kubeadm's default service range; the first address is the ``kubernetes`` Service's."""
NODE_PORTS = range(30000, 32768)
_NOT_READY_TOLERATIONS = [
    {
        "key": f"node.kubernetes.io/{taint}",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    }
    for taint in ("not-ready", "unreachable")
]

Services = Callable[[], Iterable[dict[str, Any]]]
"""Returns the stored Services, so allocation never hands out an address twice."""


def _pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.split(":", 1)[1] if ":" in name else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _container(container: dict[str, Any]) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _pull_policy(str(container.get("image") or "")))
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def pod_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and its containers'."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _container(container)


def _template(holder: dict[str, Any]) -> None:
    template = holder.setdefault("template", {})
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        spec = template.setdefault("spec", {})
        if isinstance(spec, dict):
            pod_spec(spec)


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed when every container's requests equal its limits, else Burstable or
    BestEffort (kube's GetPodQOS, for cpu and memory)."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    any_set = False
    guaranteed = bool(containers)
    for container in containers:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for resource in ("cpu", "memory"):
            limit = limits.get(resource)
            if limit is None or requests.get(resource, limit) != limit:
                guaranteed = False
    if guaranteed and any_set:
        return "Guaranteed"
    return "Burstable" if any_set else "BestEffort"


def _pod(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    present = {t.get("key") for t in tolerations if isinstance(t, dict)}
    tolerations.extend(dict(t) for t in _NOT_READY_TOLERATIONS if t["key"] not in present)


def _deployment(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(spec)


def _replica_set(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _template(spec)


def _replication_controller(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _template(spec)
    labels = spec["template"]["metadata"].get("labels") or {}
    if not spec.get("selector"):
        spec["selector"] = dict(labels)
    if not obj["metadata"].get("labels"):
        obj["metadata"]["labels"] = dict(labels)


def _daemon_set(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(spec)


def _stateful_set(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    _template(spec)


def job_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(spec)


def _job(obj: dict[str, Any], _: Services) -> None:
    """Job defaults, and the selector/labels kube generates from the Job's uid."""
    spec = obj.setdefault("spec", {})
    job_spec(spec)
    meta = obj["metadata"]
    if spec.get("manualSelector"):
        return
    uid, name = meta.get("uid", ""), meta.get("name", "")
    generated = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    template_meta = spec["template"].setdefault("metadata", {})
    template_meta["labels"] = {**(template_meta.get("labels") or {}), **generated}
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})


def _cron_job(obj: dict[str, Any], _: Services) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
    _template(job)
    job.setdefault("backoffLimit", 6)
    job.setdefault("completionMode", "NonIndexed")
    job.setdefault("suspend", False)
    job.setdefault("podReplacementPolicy", "TerminatingOrFailed")


def _allocate_ip(services: Services) -> str:
    used = {
        ip for service in services() for ip in ((service.get("spec") or {}).get("clusterIPs") or [])
    }
    for address in SERVICE_CIDR.hosts():
        if str(address) not in used and address != SERVICE_CIDR.network_address + 1:
            return str(address)
    raise RuntimeError(f"the service range {SERVICE_CIDR} is full")


def _allocate_node_port(services: Services, taken: set[int]) -> int:
    used = set(taken)
    for service in services():
        for port in (service.get("spec") or {}).get("ports") or []:
            if isinstance(port, dict) and port.get("nodePort"):
                used.add(port["nodePort"])
    return next(p for p in NODE_PORTS if p not in used)


def _service(obj: dict[str, Any], services: Services) -> None:
    spec = obj.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if kind != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = _allocate_ip(services)
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    taken: set[int] = set()
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])
        if kind in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            port["nodePort"] = _allocate_node_port(services, taken)
            taken.add(port["nodePort"])


def secret_data(obj: dict[str, Any]) -> None:
    """Merge ``stringData`` into ``data`` (base64) and drop it, as kube does on write."""
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.setdefault("data", {}) or {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def _secret(obj: dict[str, Any], _: Services) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"


def _namespace(obj: dict[str, Any], _: Services) -> None:
    meta = obj["metadata"]
    meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta["name"]}
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])


def _pvc(obj: dict[str, Any], _: Services) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")


def _ports_protocol(obj: dict[str, Any], _: Services) -> None:
    for port in obj.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for subset in obj.get("subsets") or []:
        for port in (subset or {}).get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


_DEFAULTERS: dict[tuple[str, str], Callable[[dict[str, Any], Services], None]] = {
    ("", "pods"): _pod,
    ("", "services"): _service,
    ("", "secrets"): _secret,
    ("", "namespaces"): _namespace,
    ("", "persistentvolumeclaims"): _pvc,
    ("", "replicationcontrollers"): _replication_controller,
    ("", "endpoints"): _ports_protocol,
    ("discovery.k8s.io", "endpointslices"): _ports_protocol,
    ("apps", "deployments"): _deployment,
    ("apps", "replicasets"): _replica_set,
    ("apps", "daemonsets"): _daemon_set,
    ("apps", "statefulsets"): _stateful_set,
    ("batch", "jobs"): _job,
    ("batch", "cronjobs"): _cron_job,
}


def apply_defaults(group: str, resource: str, obj: dict[str, Any], services: Services) -> None:
    """Fill in ``obj``'s defaults in place (a no-op for kinds without any)."""
    defaulter = _DEFAULTERS.get((group, resource))
    if defaulter is not None:
        defaulter(obj, services)


def create_status(group: str, resource: str, obj: dict[str, Any]) -> None:
    """The status kube-apiserver's create strategies set (never owned by a field manager)."""
    kind = (group, resource)
    if kind == ("", "namespaces"):
        obj["status"] = {"phase": "Active"}
    elif kind == ("", "pods"):
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", qos_class(obj.get("spec") or {}))
    elif kind == ("", "services"):
        obj.setdefault("status", {}).setdefault("loadBalancer", {})
    elif kind == ("", "persistentvolumeclaims"):
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif kind in (("apps", "deployments"), ("apps", "replicasets"), ("batch", "jobs")):
        obj.setdefault("status", {})
