"""ServiceRoutes: which host names are a Service's, and where a routed one goes."""

from __future__ import annotations

from reconcile.apiserver.admission import ServiceRoutes
from reconcile.apiserver.admission.caller import endpoint_url


def test_a_routed_service_port_is_found_by_its_dns_names_only() -> None:
    routes = ServiceRoutes()
    routes.route("kreconcile-system", "webhook", 443, "127.0.0.1", 9443)
    found = ("127.0.0.1", 9443)
    assert routes.lookup("webhook.kreconcile-system.svc", 443) == found
    assert routes.lookup("webhook.kreconcile-system.svc.cluster.local", 443) == found
    assert routes.lookup("webhook.kreconcile-system.svc.", 443) == found
    assert routes.lookup("webhook.kreconcile-system.svc", 8443) is None, "another port"
    assert routes.lookup("webhook.other.svc", 443) is None, "another namespace"
    assert routes.lookup("webhook.kreconcile-system.example.com", 443) is None
    assert routes.lookup("127.0.0.1", 443) is None
    routes.remove("kreconcile-system", "webhook", 443)
    assert routes.lookup("webhook.kreconcile-system.svc", 443) is None


def test_a_service_client_config_names_the_service_dns_name_and_port() -> None:
    service = {"namespace": "ns", "name": "gate", "path": "/validate"}
    assert endpoint_url({"service": service}) == "https://gate.ns.svc:443/validate"
    assert endpoint_url({"service": {**service, "port": 8443}}) == (
        "https://gate.ns.svc:8443/validate"
    )
