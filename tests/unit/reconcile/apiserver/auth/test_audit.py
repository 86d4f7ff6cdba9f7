"""The authorization log: distinct decisions per user, bounded, and the recording wrapper."""

from __future__ import annotations

import pytest

from reconcile.apiserver.auth import AuthorizationLog
from reconcile.apiserver.auth.audit import recording
from reconcile.apiserver.auth.rbac import Attributes, Decision
from reconcile.apiserver.auth.user import UserInfo

JANE = UserInfo("jane", groups=("devs",))
BOT = UserInfo("system:serviceaccount:ci:bot")


def _get(user: UserInfo, name: str) -> Attributes:
    return Attributes(user=user, verb="get", resource="pods", namespace="ci", name=name)


def test_repeats_are_kept_once_and_users_apart() -> None:
    log = AuthorizationLog(10)
    for _ in range(3):
        log.record(_get(JANE, "a"), allowed=True)
    log.record(_get(JANE, "a"), allowed=False)
    log.record(_get(BOT, "a"), allowed=True)
    assert [(d.attributes.user.name, d.allowed) for d in log.decisions()] == [
        ("jane", True),
        ("jane", False),
        ("system:serviceaccount:ci:bot", True),
    ]
    assert [d.attributes.user.name for d in log.decisions("jane")] == ["jane", "jane"]


def test_the_oldest_go_first_and_are_counted() -> None:
    log = AuthorizationLog(2)
    for name in ("a", "b", "c"):
        log.record(_get(JANE, name), allowed=True)
    assert [d.attributes.name for d in log.decisions()] == ["b", "c"]
    assert log.dropped == 1


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity of at least 1, got 0"):
        AuthorizationLog(0)


def test_recording_wraps_an_authorizer_only_when_there_is_a_log() -> None:
    def authorize(attributes: Attributes) -> Decision:
        return Decision(attributes.name == "mine")

    assert recording(authorize, None) is authorize
    log = AuthorizationLog(10)
    checked = recording(authorize, log)
    assert checked(_get(BOT, "mine")).allowed and not checked(_get(BOT, "other")).allowed
    assert [(d.attributes.name, d.allowed) for d in log.decisions()] == [
        ("mine", True),
        ("other", False),
    ]
