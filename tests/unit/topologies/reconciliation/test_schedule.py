from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from topologies.reconciliation.schedule import Schedule

HOURLY = timedelta(hours=1)


def test_the_daily_pass_runs_at_its_time_of_day_today_or_tomorrow() -> None:
    schedule = Schedule(HOURLY, time(2, 0))

    assert schedule.next_daily(datetime(2026, 11, 22, 1, 0, tzinfo=UTC)) == datetime(
        2026, 11, 22, 2, 0, tzinfo=UTC
    )
    assert schedule.next_daily(datetime(2026, 11, 22, 2, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 2, 0, tzinfo=UTC
    )


def test_a_daily_interval_replaces_the_time_of_day() -> None:
    schedule = Schedule(HOURLY, time(2, 0), timedelta(seconds=5))
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)

    assert schedule.next_daily(now) == now + timedelta(seconds=5)
    assert schedule.next_hourly(now) == now + HOURLY
