"""API types of ``kreconcile.io/v1alpha1``: the single source of the CRD manifests.

One module per kind (``restartrecord``, ``iolimitpolicy``, ``agentpool``), each with spec
and status dataclasses, a top-level class with ``GVK`` (so ``ControllerBuilder.for_(AgentPool)``
works) and a ``DEFINITION`` that ``kreconcile crdgen`` renders into
``config/crd/bases/kreconcile.io_<plural>.yaml``.

Controllers keep raw dicts on hot paths and convert at the edge::

    pool = AgentPool.from_dict(raw)              # typed view of a cached object
    client.patch_status(..., to_dict(pool.status))
"""

from crds import agentpool, iolimitpolicy, restartrecord
from crds.agentpool import AgentPool
from crds.convert import from_dict, to_dict
from crds.definition import GROUP, VERSION, KindDefinition
from crds.iolimitpolicy import IOLimitPolicy
from crds.restartrecord import RestartRecord

__all__ = [
    "DEFINITIONS",
    "GROUP",
    "VERSION",
    "AgentPool",
    "IOLimitPolicy",
    "KindDefinition",
    "RestartRecord",
    "from_dict",
    "to_dict",
]


DEFINITIONS: tuple[KindDefinition, ...] = (
    restartrecord.DEFINITION,
    iolimitpolicy.DEFINITION,
    agentpool.DEFINITION,
)
"""Every kind of the group, in the order the CRD files are listed."""
