"""AdmissionReviews over HTTP: completed answers, errored reviews for bad input, panics
counted as 500s, API errors answered with their status, and the request in context."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from reconcile.errors import Conflict, KreconcileError
from reconcile.webhook import (
    AdmissionRequest,
    AdmissionResponse,
    Webhook,
    allowed,
    patch_response,
    request_from_context,
)


def _review(**request: Any) -> bytes:
    body = {"uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "operation": "CREATE", "object": {"metadata": {"name": "c"}}, **request}  # fmt: skip
    return json.dumps(
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": body}
    ).encode()


class Decide:
    def __init__(self, decide: Any) -> None:
        self.decide = decide
        self.seen: list[AdmissionRequest] = []

    def handle(self, request: AdmissionRequest) -> AdmissionResponse:
        self.seen.append(request_from_context())
        result: AdmissionResponse = self.decide(request)
        return result


def _answer(handler: Any, body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    reply = Webhook(handler).serve_http(body, content_type)
    assert reply.status == 200
    review: dict[str, Any] = json.loads(reply.body)
    assert (review["apiVersion"], review["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    response: dict[str, Any] = review["response"]
    return response


def test_allowed_answer_is_completed_with_uid_and_code() -> None:
    handler = Decide(lambda r: allowed())
    response = _answer(handler, _review(dryRun=True, name="c", namespace="ns"))
    assert response == {"uid": "u-1", "allowed": True, "status": {"code": 200}}
    (seen,) = handler.seen
    assert (seen.dry_run, seen.name, seen.namespace, seen.operation) == (True, "c", "ns", "CREATE")


def test_patch_is_base64_json_patch() -> None:
    def decide(request: AdmissionRequest) -> AdmissionResponse:
        assert request.object is not None
        return patch_response(request.object, {**request.object, "data": {"k": "v"}})

    response = _answer(Decide(decide), _review())
    assert response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"])) == [
        {"op": "add", "path": "/data", "value": {"k": "v"}}
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        pytest.param(b"", "application/json", "request body is empty", id="empty"),
        pytest.param(b"{}", "text/plain", "contentType=text/plain, expected application/json",
                     id="content-type"),
        pytest.param(b"[1]", "application/json", "an AdmissionReview is a JSON object", id="list"),
        pytest.param(b'{"apiVersion": "v1", "kind": "Pod"}', "application/json",
                     "expected admission.k8s.io/v1 AdmissionReview", id="wrong-kind"),
        pytest.param(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                 "request": {}}).encode(), "application/json",
                     "the AdmissionReview request has no uid", id="no-uid"),
    ],
)  # fmt: skip
def test_bad_input_is_an_errored_review(body: bytes, content_type: str, message: str) -> None:
    response = _answer(Decide(lambda r: allowed()), body, content_type)
    assert response["allowed"] is False
    assert response["status"]["code"] == 400
    assert message in response["status"]["message"]


def test_panic_is_a_500_review_and_flagged() -> None:
    def boom(request: AdmissionRequest) -> AdmissionResponse:
        raise ZeroDivisionError("division by zero")

    reply = Webhook(Decide(boom)).serve_http(_review(), "application/json")
    assert reply.panicked
    response = json.loads(reply.body)["response"]
    assert response["uid"] == "u-1" and response["allowed"] is False
    assert response["status"] == {"code": 500, "message": "panic: division by zero [recovered]"}


def test_without_recovery_a_panic_propagates() -> None:
    def boom(request: AdmissionRequest) -> AdmissionResponse:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ZeroDivisionError):
        Webhook(Decide(boom), recover_panic=False).serve_http(_review(), "application/json")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(Conflict("busy"), {"code": 409, "reason": "Conflict", "message": "busy",
                                        "status": "Failure"}, id="api-error-keeps-its-status"),
        pytest.param(KreconcileError("nope"), {"code": 403, "reason": "Forbidden",
                                              "message": "nope"}, id="other-is-denied"),
    ],
)  # fmt: skip
def test_raised_errors_are_denials(error: Exception, status: dict[str, Any]) -> None:
    def refuse(request: AdmissionRequest) -> AdmissionResponse:
        raise error

    reply = Webhook(Decide(refuse)).serve_http(_review(), "application/json")
    assert not reply.panicked
    response = json.loads(reply.body)["response"]
    assert response["allowed"] is False
    assert response["status"] == status


def test_request_from_context_outside_a_handler_says_where_to_call_it() -> None:
    with pytest.raises(RuntimeError, match="from a validator or defaulter"):
        request_from_context()
