"""Admission and conversion webhooks (controller-runtime's ``pkg/webhook``).

``server`` is the HTTPS server the manager runs on every replica (``mgr.webhook_server``,
configured by ``ManagerOptions.webhook_server``); ``admission`` has the AdmissionReview types
and the HTTP adapter; ``validator`` and ``defaulter`` the ``CustomValidator`` and
``CustomDefaulter`` protocols; ``conversion`` the hub-and-spoke ``/convert`` handler;
``builder`` the ``WebhookBuilder`` that wires a kind's webhooks at kubebuilder's paths;
``metrics`` the ``controller_runtime_webhook_*`` families. Names load lazily.
"""

from typing import TYPE_CHECKING

from reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from reconcile.webhook.admission import (
        AdmissionRequest,
        AdmissionResponse,
        Handler,
        Webhook,
        allowed,
        denied,
        errored,
        patch_response,
        request_from_context,
    )
    from reconcile.webhook.builder import WebhookBuilder, mutate_path, validate_path
    from reconcile.webhook.conversion import ConversionWebhook, Spoke
    from reconcile.webhook.defaulter import CustomDefaulter, DefaulterHandler
    from reconcile.webhook.jsonpatch import create_patch
    from reconcile.webhook.metrics import WebhookMetrics
    from reconcile.webhook.options import WebhookServerOptions
    from reconcile.webhook.server import Endpoint, WebhookServer
    from reconcile.webhook.validator import (
        CustomValidator,
        FieldError,
        ValidatorHandler,
        invalid,
    )

_EXPORTS = {
    "AdmissionRequest": "reconcile.webhook.admission",
    "AdmissionResponse": "reconcile.webhook.admission",
    "ConversionWebhook": "reconcile.webhook.conversion",
    "CustomDefaulter": "reconcile.webhook.defaulter",
    "CustomValidator": "reconcile.webhook.validator",
    "DefaulterHandler": "reconcile.webhook.defaulter",
    "Endpoint": "reconcile.webhook.server",
    "FieldError": "reconcile.webhook.validator",
    "Handler": "reconcile.webhook.admission",
    "Spoke": "reconcile.webhook.conversion",
    "ValidatorHandler": "reconcile.webhook.validator",
    "Webhook": "reconcile.webhook.admission",
    "WebhookBuilder": "reconcile.webhook.builder",
    "WebhookMetrics": "reconcile.webhook.metrics",
    "WebhookServer": "reconcile.webhook.server",
    "WebhookServerOptions": "reconcile.webhook.options",
    "allowed": "reconcile.webhook.admission",
    "create_patch": "reconcile.webhook.jsonpatch",
    "denied": "reconcile.webhook.admission",
    "errored": "reconcile.webhook.admission",
    "invalid": "reconcile.webhook.validator",
    "mutate_path": "reconcile.webhook.builder",
    "patch_response": "reconcile.webhook.admission",
    "request_from_context": "reconcile.webhook.admission",
    "validate_path": "reconcile.webhook.builder",
}

__all__ = [
    "AdmissionRequest",
    "AdmissionResponse",
    "ConversionWebhook",
    "CustomDefaulter",
    "CustomValidator",
    "DefaulterHandler",
    "Endpoint",
    "FieldError",
    "Handler",
    "Spoke",
    "ValidatorHandler",
    "Webhook",
    "WebhookBuilder",
    "WebhookMetrics",
    "WebhookServer",
    "WebhookServerOptions",
    "allowed",
    "create_patch",
    "denied",
    "errored",
    "invalid",
    "mutate_path",
    "patch_response",
    "request_from_context",
    "validate_path",
]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
