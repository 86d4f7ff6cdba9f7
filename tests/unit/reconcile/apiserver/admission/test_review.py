"""Webhook answers checked as kube-apiserver checks them, and refusals worded as it words them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from reconcile.apiserver.admission.review import InvalidAnswer, denial, verify_answer


def _answer(**response: Any) -> dict[str, Any]:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": True, **response}}  # fmt: skip


PATCH = base64.b64encode(json.dumps([{"op": "add", "path": "/a", "value": 1}]).encode()).decode()


@pytest.mark.parametrize(
    ("review", "mutating", "message"),
    [
        pytest.param({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, True,
                     "webhook response was absent", id="absent"),
        pytest.param(_answer(uid="other"), True, 'expected response.uid="u", got "other"',
                     id="uid"),
        pytest.param({**_answer(), "apiVersion": "admission.k8s.io/v1beta1"}, True,
                     "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview",
                     id="version"),
        pytest.param(_answer(patch=PATCH, patchType="JSONPatch"), False,
                     "validating webhook may not return response.patch", id="validating-patch"),
        pytest.param(_answer(patch=PATCH), True,
                     "webhook returned response.patch but not response.patchType", id="no-type"),
        pytest.param(_answer(patchType="JSONPatch"), True,
                     "webhook returned response.patchType but not response.patch", id="no-patch"),
        pytest.param(_answer(patch="%%%", patchType="JSONPatch"), True,
                     "received undecodable patch", id="undecodable"),
    ],
)  # fmt: skip
def test_bad_answers(review: dict[str, Any], mutating: bool, message: str) -> None:
    with pytest.raises(InvalidAnswer, match=message):
        verify_answer(review, "u", mutating=mutating)


def test_a_good_patch_is_decoded() -> None:
    answer = verify_answer(_answer(patch=PATCH, patchType="JSONPatch", warnings=["w"]), "u",
                           mutating=True)  # fmt: skip
    assert answer.patch == [{"op": "add", "path": "/a", "value": 1}]
    assert answer.warnings == ["w"] and answer.allowed


@pytest.mark.parametrize(
    ("result", "code", "message"),
    [
        pytest.param({"code": 403, "message": "no"}, 403, ": no", id="message"),
        pytest.param({"reason": "Nope"}, 400, ": Nope", id="reason-and-code-at-least-400"),
        pytest.param({}, 400, " without explanation", id="nothing"),
    ],
)
def test_denial_wording(result: dict[str, Any], code: int, message: str) -> None:
    error = denial("v.example.com", result)
    assert error.code == code
    assert error.message == f'admission webhook "v.example.com" denied the request{message}'
