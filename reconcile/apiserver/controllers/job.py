"""The Job controller: run pods until ``completions`` succeed or ``backoffLimit`` is passed.

Up to ``parallelism`` pods run at once (never more than the completions still missing);
each pod that ends Succeeded counts toward completion, each Failed one toward the backoff
limit. A finished Job gets the conditions ``kubectl wait --for=condition=complete`` (or
``failed``) looks for, a ``completionTime`` when it completed, and keeps no active pods.
"""

from __future__ import annotations

from typing import Any

from reconcile.apiserver.controllers.pods import (
    POD,
    is_active,
    is_ready,
    live,
    new_pod,
    owned_pods,
    write_status,
)
from reconcile.builder import ControllerBuilder
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request, Result
from reconcile.timestamps import rfc3339

__all__ = ["JOB", "JobReconciler", "setup"]

JOB = GroupVersionKind("batch", "v1", "Job")


def _phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _condition(kind: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


class JobReconciler:
    def __init__(self, manager: Any) -> None:
        self.reader = manager.api_reader
        self.recorder = manager.get_event_recorder("job-controller")

    def reconcile(self, request: Request) -> Result:
        job = live(self.reader, JOB, request)
        if job is None:
            return Result()
        status = job.get("status") or {}
        if _finished(status):
            return Result()
        spec = job.get("spec") or {}
        pods = owned_pods(self.reader, job)
        succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
        failed = sum(1 for p in pods if _phase(p) == "Failed")
        active = [p for p in pods if is_active(p)]
        completions = int(spec.get("completions") or 1)
        now = rfc3339()
        new_status: dict[str, Any] = {
            **status,
            "startTime": status.get("startTime") or now,
            "active": len(active),
            "ready": sum(1 for p in active if is_ready(p)),
            "succeeded": succeeded,
            "failed": failed,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
        if succeeded >= completions:
            self._finish(job, active, new_status, now, complete=True)
        elif failed > int(spec.get("backoffLimit", 6)):
            self._finish(job, active, new_status, now, complete=False)
        elif not spec.get("suspend"):
            missing = completions - succeeded - len(active)
            wanted = min(int(spec.get("parallelism", 1)) - len(active), missing)
            for _ in range(max(0, wanted)):
                pod = self.reader.create(new_pod(job, spec.get("template") or {}))
                self.recorder.event(
                    job, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"
                )
            new_status["active"] = len(active) + max(0, wanted)
        for key in ("active", "succeeded", "failed", "ready"):
            if not new_status.get(key):
                new_status.pop(key, None)
        write_status(self.reader, job, new_status)
        return Result()

    def _finish(
        self,
        job: dict[str, Any],
        active: list[dict[str, Any]],
        status: dict[str, Any],
        now: str,
        *,
        complete: bool,
    ) -> None:
        for pod in active:
            try:
                self.reader.delete(pod)
            except NotFound:
                continue
        status["active"] = 0
        conditions = list(status.get("conditions") or [])
        if complete:
            message = "Reached expected number of succeeded pods"
            conditions.append(_condition("SuccessCriteriaMet", "CompletionsReached", message, now))
            conditions.append(_condition("Complete", "CompletionsReached", message, now))
            status["completionTime"] = now
            self.recorder.event(job, "Normal", "Completed", "Job completed")
        else:
            message = "Job has reached the specified backoff limit"
            conditions.append(_condition("FailureTarget", "BackoffLimitExceeded", message, now))
            conditions.append(_condition("Failed", "BackoffLimitExceeded", message, now))
            self.recorder.event(job, "Warning", "BackoffLimitExceeded", message)
        status["conditions"] = conditions


def _finished(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def setup(manager: Any) -> None:
    """Register the Job controller."""
    ControllerBuilder(manager).named("job").for_(JOB).owns(POD).complete(JobReconciler(manager))
