"""``WebhookBuilder``: a kind's defaulting, validating and conversion webhooks on the
manager's webhook server (controller-runtime's ``builder.WebhookManagedBy``).

``WebhookBuilder(mgr).for_(AgentPool).with_validator(v).with_defaulter(d).complete()``
registers, on ``mgr.webhook_server``:

- ``/validate-<group>-<version>-<kind>`` serving ``ValidatorHandler(v)`` and
  ``/mutate-<group>-<version>-<kind>`` serving ``DefaulterHandler(d)``: kubebuilder's
  names (dots in the group become dashes, the kind is lowercased), which the
  ``clientConfig.service.path`` of kubebuilder's webhook manifests expect;
- with ``with_conversion(spokes)``, the kind on the server's one ``/convert`` handler,
  with the ``for_`` version as the hub.

Mistakes are reported by ``complete``: no ``for_``, nothing to register, a path taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from reconcile.gvk import GroupVersionKind, KindLike, gvk_of
from reconcile.webhook.admission import Webhook
from reconcile.webhook.conversion import ConversionWebhook, Spoke
from reconcile.webhook.defaulter import CustomDefaulter, DefaulterHandler
from reconcile.webhook.server import Endpoint
from reconcile.webhook.validator import CustomValidator, ValidatorHandler

if TYPE_CHECKING:
    from reconcile.manager import Manager

__all__ = ["CONVERSION_PATH", "WebhookBuilder", "mutate_path", "validate_path"]

CONVERSION_PATH = "/convert"


def _suffix(kind: GroupVersionKind) -> str:
    return f"{kind.group.replace('.', '-')}-{kind.version}-{kind.kind.lower()}"


def validate_path(kind: GroupVersionKind) -> str:
    """``/validate-kreconcile-io-v1alpha1-agentpool`` (kubebuilder's name)."""
    return f"/validate-{_suffix(kind)}"


def mutate_path(kind: GroupVersionKind) -> str:
    """``/mutate-kreconcile-io-v1alpha1-agentpool`` (kubebuilder's name)."""
    return f"/mutate-{_suffix(kind)}"


class WebhookBuilder:
    """Records what to serve for one kind; ``complete()`` registers it."""

    def __init__(self, manager: Manager) -> None:
        self._manager = manager
        self._kind: GroupVersionKind | None = None
        self._validator: CustomValidator | None = None
        self._defaulter: CustomDefaulter | None = None
        self._spokes: Mapping[str, Spoke] | None = None
        self._recover_panic = True
        self._validate_path: str | None = None
        self._mutate_path: str | None = None
        self._errors: list[str] = []

    def for_(self, kind: KindLike) -> WebhookBuilder:
        """The kind (and version) the webhooks admit; the hub for conversion."""
        if self._kind is not None:
            self._errors.append("for_() was called twice: a webhook builder serves one kind")
        self._kind = gvk_of(kind)
        return self

    def with_validator(self, validator: CustomValidator) -> WebhookBuilder:
        """Serve ``validator`` at the kind's ``/validate-...`` path."""
        self._validator = validator
        return self

    def with_defaulter(self, defaulter: CustomDefaulter) -> WebhookBuilder:
        """Serve ``defaulter`` at the kind's ``/mutate-...`` path."""
        self._defaulter = defaulter
        return self

    def with_conversion(self, spokes: Mapping[str, Spoke]) -> WebhookBuilder:
        """Convert between the ``for_`` version (the hub) and each version of ``spokes``."""
        self._spokes = spokes
        return self

    def with_recover_panic(self, recover: bool) -> WebhookBuilder:
        """False lets a handler's unexpected exception drop the connection (debugging)."""
        self._recover_panic = recover
        return self

    def with_validator_custom_path(self, path: str) -> WebhookBuilder:
        """Serve the validator at ``path`` instead of kubebuilder's name."""
        self._validate_path = path
        return self

    def with_defaulter_custom_path(self, path: str) -> WebhookBuilder:
        """Serve the defaulter at ``path`` instead of kubebuilder's name."""
        self._mutate_path = path
        return self

    def complete(self) -> None:
        """Register everything on the manager's webhook server; ValueError on misuse."""
        kind = self._kind
        if kind is None:
            self._errors.append("call for_(kind) before complete(): which kind is admitted?")
        elif self._validator is None and self._defaulter is None and self._spokes is None:
            self._errors.append(
                f"nothing to serve for {kind.kind}: call with_validator, with_defaulter or "
                "with_conversion"
            )
        if self._errors:
            raise ValueError("; ".join(self._errors))
        assert kind is not None
        server = self._manager.webhook_server
        if self._defaulter is not None:
            path = self._mutate_path or mutate_path(kind)
            handler = Webhook(DefaulterHandler(self._defaulter), recover_panic=self._recover_panic)
            server.register(path, handler, endpoint=Endpoint(path, "mutating", kind))
        if self._validator is not None:
            path = self._validate_path or validate_path(kind)
            handler = Webhook(ValidatorHandler(self._validator), recover_panic=self._recover_panic)
            server.register(path, handler, endpoint=Endpoint(path, "validating", kind))
        if self._spokes is not None:
            conversion = server.handler(CONVERSION_PATH)
            if conversion is None:
                conversion = ConversionWebhook()
                server.register(
                    CONVERSION_PATH, conversion, endpoint=Endpoint(CONVERSION_PATH, "conversion")
                )
            if not isinstance(conversion, ConversionWebhook):
                raise ValueError(f"{CONVERSION_PATH} is already served by {conversion!r}")
            conversion.register(kind, self._spokes)
