"""Admission in the embedded API server: webhooks, ValidatingAdmissionPolicies, and the
write path that runs them (kube-apiserver's admission chain).

``configurations`` serves and checks the admissionregistration.k8s.io/v1 kinds;
``matching`` decides which webhooks and policies a request concerns; ``webhooks`` calls
Mutating/ValidatingWebhookConfigurations (``caller``, ``review``); ``policies`` evaluates
ValidatingAdmissionPolicies with CEL (``expressions``); ``flow`` runs writes through it all
in kube's order and ``reads`` serves CRD versions converted by webhook.
"""

from reconcile.apiserver.admission.caller import ServiceRoutes, WebhookCaller
from reconcile.apiserver.admission.configurations import ADMISSION_RESOURCES, install
from reconcile.apiserver.admission.flow import AdmissionFlow

__all__ = ["ADMISSION_RESOURCES", "AdmissionFlow", "ServiceRoutes", "WebhookCaller", "install"]
