"""When the reconciler's passes run: the hourly one every ``every``; the daily one at a time of
day (UTC; seeds: 02:00), or every ``daily_every`` when set (tests, demos). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class Schedule:
    every: timedelta
    daily_at: time
    daily_every: timedelta | None = None

    def next_hourly(self, now: datetime) -> datetime:
        return now + self.every

    def next_daily(self, now: datetime) -> datetime:
        """The next daily pass after ``now`` (UTC)."""
        if self.daily_every is not None:
            return now + self.daily_every
        today = datetime.combine(now.date(), self.daily_at, now.tzinfo)
        return today if today > now else today + timedelta(days=1)
