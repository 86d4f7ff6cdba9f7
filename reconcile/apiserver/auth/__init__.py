"""Who may do what on the embedded API server: TLS, authentication and RBAC authorization.

kube-apiserver's defaults are the anchor: the server speaks TLS with a self-signed CA kept in
its data dir (``pki``); clients authenticate with the admin bearer token written into the
kubeconfig, with ServiceAccount tokens from ``kubectl create token`` (``tokens``) or with
client certificates signed by the CA (``authn``); the RBAC authorizer (``rbac``) decides
with the stored Roles and bindings, starting from kube's default policy (``policy``,
``aggregation``) and refusing escalation (``escalation``), optionally with kube's
OwnerReferencesPermissionEnforcement (``ownerrefs``); ``kubectl auth can-i`` and ``whoami``
are answered by the review APIs (``reviews``); ``audit`` logs the decisions for tests.
``security.Security`` chains it all in front of the resource handlers.
"""

from reconcile.apiserver.auth.audit import AuthorizationLog, LoggedDecision
from reconcile.apiserver.auth.authn import ADMIN_USER, ANONYMOUS_PATHS
from reconcile.apiserver.auth.kubeconfig import build_kubeconfig, write_kubeconfig
from reconcile.apiserver.auth.pki import SERVING_HOSTS, CertificatePair, ServerSecrets
from reconcile.apiserver.auth.reviews import REVIEW_RESOURCES
from reconcile.apiserver.auth.security import Security
from reconcile.apiserver.auth.user import UserInfo

__all__ = [
    "ADMIN_USER",
    "ANONYMOUS_PATHS",
    "REVIEW_RESOURCES",
    "SERVING_HOSTS",
    "AuthorizationLog",
    "CertificatePair",
    "LoggedDecision",
    "Security",
    "ServerSecrets",
    "UserInfo",
    "build_kubeconfig",
    "write_kubeconfig",
]
