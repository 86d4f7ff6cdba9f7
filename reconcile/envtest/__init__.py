"""A Kubernetes API for tests, like controller-runtime's envtest.

``Environment().start()`` returns a kubeconfig path for, in order of preference:

1. an existing cluster, when ``USE_EXISTING_CLUSTER=true`` (``KUBECONFIG`` or ~/.kube/config);
2. real ``etcd`` and ``kube-apiserver`` binaries, when ``KUBEBUILDER_ASSETS`` names their
   directory (as setup-envtest installs them);
3. otherwise the embedded API server, in-process and in-memory.

With ``EnvironmentOptions(crd_install=CRDInstallOptions(paths=[...]))`` it installs CRDs
and waits until they are served. The kit also has ``FakeClient`` (the embedded server's
storage without HTTP, with ``Interceptors`` for error paths) and ``Komega``
(``eventually(obj).has(...)``); ``service_account_kubeconfig`` runs code as a ServiceAccount.
Names load lazily.
"""

from typing import TYPE_CHECKING

from reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from reconcile.envtest.crd import CRDInstallOptions, install_crds, uninstall_crds
    from reconcile.envtest.environment import Environment, EnvironmentOptions
    from reconcile.envtest.fake import FakeClient, Interceptors
    from reconcile.envtest.identity import service_account_kubeconfig, service_account_token
    from reconcile.envtest.komega import Komega

_EXPORTS = {
    "CRDInstallOptions": "reconcile.envtest.crd",
    "Environment": "reconcile.envtest.environment",
    "EnvironmentOptions": "reconcile.envtest.environment",
    "FakeClient": "reconcile.envtest.fake",
    "Interceptors": "reconcile.envtest.fake",
    "Komega": "reconcile.envtest.komega",
    "install_crds": "reconcile.envtest.crd",
    "service_account_kubeconfig": "reconcile.envtest.identity",
    "service_account_token": "reconcile.envtest.identity",
    "uninstall_crds": "reconcile.envtest.crd",
}

__all__ = [
    "CRDInstallOptions",
    "Environment",
    "EnvironmentOptions",
    "FakeClient",
    "Interceptors",
    "Komega",
    "install_crds",
    "service_account_kubeconfig",
    "service_account_token",
    "uninstall_crds",
]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
