from __future__ import annotations

import datetime as dt

import pytest

from reconcile.leaderelection import (
    LeaderElectionOptions,
    LeaderElectionRecord,
    format_micro_time,
)


def test_defaults_are_controller_runtimes() -> None:
    options = LeaderElectionOptions(name="lease", namespace="ns")
    assert (options.lease_duration, options.renew_deadline, options.retry_period) == (
        15.0,
        10.0,
        2.0,
    )
    assert options.release_on_cancel is True


@pytest.mark.parametrize(
    ("lease", "renew", "retry"),
    [
        pytest.param(10.0, 10.0, 2.0, id="renew-equals-lease"),
        pytest.param(15.0, 20.0, 2.0, id="renew-exceeds-lease"),
        pytest.param(15.0, 2.4, 2.0, id="renew-not-above-1.2x-retry"),
        pytest.param(15.0, 10.0, 0.0, id="zero-retry"),
    ],
)
def test_invalid_timings_say_which_rule(lease: float, renew: float, retry: float) -> None:
    with pytest.raises(ValueError, match=r"lease_duration > renew_deadline > 1\.2\*retry_period"):
        LeaderElectionOptions(
            name="lease",
            namespace="ns",
            lease_duration=lease,
            renew_deadline=renew,
            retry_period=retry,
        )


def test_missing_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="Lease name and namespace"):
        LeaderElectionOptions(name="", namespace="ns")


def test_micro_time_has_six_fraction_digits_in_utc() -> None:
    moment = dt.datetime(2026, 11, 24, 3, 4, 5, 60, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_micro_time(moment) == "2026-11-24T01:04:05.000060Z"


def test_record_round_trips_through_lease_spec() -> None:
    record = LeaderElectionRecord(
        holder_identity="a_1",
        lease_duration_seconds=15,
        acquire_time="2026-11-24T01:00:00.000000Z",
        renew_time="2026-11-24T01:00:02.000000Z",
        leader_transitions=3,
    )
    lease = {"spec": record.to_spec()}
    assert lease["spec"]["leaseTransitions"] == 3
    assert LeaderElectionRecord.from_lease(lease) == record
