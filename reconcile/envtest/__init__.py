"""A Kubernetes API for tests, like controller-runtime's envtest.

``Environment().start()`` returns a kubeconfig path for, in order of preference:

1. an existing cluster, when ``USE_EXISTING_CLUSTER=true`` (``KUBECONFIG`` or ~/.kube/config);
2. real ``etcd`` and ``kube-apiserver`` binaries, when ``KUBEBUILDER_ASSETS`` names their
   directory (as setup-envtest installs them);
3. otherwise the embedded API server, in-process and in-memory.
"""

from reconcile.envtest.environment import Environment, EnvironmentOptions

__all__ = ["Environment", "EnvironmentOptions"]
