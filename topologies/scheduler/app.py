"""The scheduler topology: ``escrow.events.v1`` -> durable timers -> the system commands of the
escrow's clocks on ``escrow.commands.v1`` (``CancelEscrow`` FUNDING_TIMEOUT, ``ReleaseFunds``
AUTO_RELEASE, ``RetryPayout``), exactly-once (DESIGN.md §1 "scheduler", §4; seeds: 003 §4.15).

Timers are partitioned like the escrow events (key: escrow_id), so instances share them as they
share the partitions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from quixstreams import Application

from connectors.kafka_serdes import schema_registry
from connectors.topics import ESCROW_COMMANDS, ESCROW_EVENTS, ESCROW_REMINDERS
from kernel import mapping
from kernel.messages import EscrowEvent
from schemas.escrow.v1.commands_pb2 import EscrowCommand
from schemas.scheduler.v1.reminders_pb2 import DeadlineReminder
from topologies import metrics
from topologies.records import Decoder, Output, Record, decoded
from topologies.scheduler.ticker import TimerTicker
from topologies.scheduler.timers import timers_after
from topologies.settings import TopologySettings
from topologies.wiring import application, input_topic, output_topic, route_outputs, run

NAME = "scheduler"


class SchedulerSettings(TopologySettings):
    """Environment: ``REMINDER_BEFORE_S`` (86400: a deadline's reminder goes out 24 h before it;
    none when the deadline is nearer than that when it is set)."""

    reminder_before_s: float = 86_400


def scheduler_handler(ticker: TimerTicker, reminder_before: timedelta) -> Callable[..., Output]:
    """One escrow event in: the escrow's timers set, moved or cancelled; nothing out."""

    def handle(event: EscrowEvent, record: Record, *_: Any) -> Output:
        escrow_id = event.meta.escrow_id
        queue = ticker.queue(record.partition)
        before = queue.timers_of(escrow_id)
        after = timers_after(event, before, reminder_before)
        if after != before:
            queue.replace(escrow_id, before, after)
            for kind, timer in after.items():
                if before.get(kind) != timer:
                    metrics.TIMERS_SET.labels(kind.name).inc()
                    ticker.scheduled(record.partition, timer)
            for kind in before.keys() - after.keys():
                metrics.TIMERS_CANCELLED.labels(kind.name).inc()
        return Output()

    decoder = Decoder(ESCROW_EVENTS, mapping.EVENTS, lambda e: e.meta.escrow_id)
    return decoded({ESCROW_EVENTS: decoder}, handle)


def build(settings: SchedulerSettings, registry: Any) -> Application:
    app = application(settings, NAME)
    sdf = app.dataframe(input_topic(app, ESCROW_EVENTS))
    commands = output_topic(app, ESCROW_COMMANDS, EscrowCommand, registry)
    reminders = output_topic(app, ESCROW_REMINDERS, DeadlineReminder, registry)
    ticker = TimerTicker(sdf, commands, reminders)
    reminder_before = timedelta(seconds=settings.reminder_before_s)
    sdf = sdf.apply(scheduler_handler(ticker, reminder_before), stateful=True, metadata=True)
    route_outputs(sdf, app, {}, registry, [ESCROW_EVENTS])
    ticker.register(app)
    return app


def main() -> None:
    settings = SchedulerSettings()
    registry = schema_registry(settings.schema_registry_url)
    run(lambda: build(settings, registry), settings)


if __name__ == "__main__":
    main()
