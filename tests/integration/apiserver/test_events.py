"""``kubectl events --for KIND/NAME``: a field selector whose values hold ``/``."""

from __future__ import annotations

from tests.conftest import Kubectl

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""


def _event(name: str, api_version: str, kind: str, target: str, reason: str) -> str:
    return f"""
apiVersion: v1
kind: Event
metadata: {{name: {name}}}
involvedObject: {{apiVersion: {api_version}, kind: {kind}, name: {target}, namespace: default}}
reason: {reason}
message: {reason} happened
type: Normal
firstTimestamp: "2026-11-24T00:00:00Z"
lastTimestamp: "2026-11-24T00:00:00Z"
count: 1
"""


def test_events_for_a_deployment(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("apply", "-f", "-", input=_event("e1", "apps/v1", "Deployment", "web", "ScalingUp"))
    kubectl("apply", "-f", "-", input=_event("e2", "v1", "Pod", "web", "PodThing"))
    out = kubectl("events", "--for", "deployment/web")
    assert "ScalingUp" in out
    assert "PodThing" not in out
