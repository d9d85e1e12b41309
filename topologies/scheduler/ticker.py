"""Firing due timers from Quix Streams' run loop (DESIGN.md §1 "scheduler", §4).

Quix Streams has no public timer API. Its run loop calls the tasks registered with
``DataFrameRegistry.register_periodic_task`` after each poll and before each checkpoint commit;
its own lookup-join buffer settles deadlines that way. The ticker is such a task: for each
assigned partition whose earliest timer is due, it reads the due timers from that partition's
store (``TimerQueue``), produces each one's system command to ``escrow.commands.v1`` and removes
the timer, all in the checkpoint's Kafka transaction. So under exactly-once a timer's removal
commits with its command or neither does; a crash in between fires it again after the restart,
with the same command id, which the escrow topology answers as a duplicate.

The earliest due time per partition is cached in memory only to skip reading an index with
nothing due; the timers themselves live only in the store. A newly assigned partition (after a
restart or a rebalance) is read on the next tick.

The internal calls (``Application._dataframe_registry``, the checkpoint's store transaction,
``StateStoreManager.recovery_required``) are pinned by the scheduler's integration tests, and
quixstreams is pinned below 4 in pyproject.toml.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import cast

from google.protobuf.message import Message
from quixstreams import Application
from quixstreams.dataframe import StreamingDataFrame
from quixstreams.models import Topic
from quixstreams.state.base import StorePartition
from quixstreams.state.rocksdb.transaction import RocksDBPartitionTransaction

from kernel import mapping
from kernel.mapping import fill
from schemas.scheduler.v1.reminders_pb2 import DeadlineReminder as ReminderProto
from topologies import metrics
from topologies.scheduler.timer_queue import TimerQueue, due_ms
from topologies.scheduler.timers import DeadlineReminder, Timer, fire

logger = logging.getLogger(__name__)

NOTHING_DUE = 2**63 - 1
STORE = "default"


class TimerTicker:
    """Fires the due timers of the partitions of ``sdf``'s default store.

    :param sdf: the stateful dataframe whose store holds the timers.
    :param commands: ``escrow.commands.v1``, serializing escrow command envelopes.
    :param reminders: ``escrow.reminders.v1``, serializing ``DeadlineReminder``.
    :param batch: at most this many timers fired per partition per tick (the run loop does not
        poll while a tick runs; the rest go on the next tick, milliseconds later).
    """

    def __init__(
        self, sdf: StreamingDataFrame, commands: Topic, reminders: Topic, batch: int = 500
    ) -> None:
        self._sdf = sdf
        self._commands, self._reminders = commands, reminders
        self._batch = batch
        self._known: dict[int, StorePartition] = {}
        self._next_due_ms: dict[int, int] = {}

    def register(self, app: Application) -> None:
        """Makes this ticker a periodic task of ``app``'s run loop."""
        registry = app._dataframe_registry  # noqa: SLF001 - see the module docstring
        registry.register_periodic_task(self.tick)

    def queue(self, partition: int) -> TimerQueue:
        """The timers of ``partition``, in the open checkpoint's transaction."""
        checkpoint = self._sdf.processing_context.checkpoint
        transaction = checkpoint.get_store_transaction(self._sdf.stream_id, partition, STORE)
        return TimerQueue(cast(RocksDBPartitionTransaction, transaction))

    def scheduled(self, partition: int, timer: Timer) -> None:
        """Notes a timer set on ``partition``, so the tick looks there when it is due."""
        due = due_ms(timer.due_at)
        if due < self._next_due_ms.get(partition, NOTHING_DUE):
            self._next_due_ms[partition] = due

    def tick(self) -> None:
        """Fires what is due now on every assigned partition."""
        state_manager = self._sdf.processing_context.state_manager
        if state_manager.recovery_required:  # a store still restoring from its changelog
            return
        partitions = state_manager.get_store(self._sdf.stream_id, STORE).partitions
        if partitions != self._known:
            self._resync(partitions)
        now_ms = int(time.time() * 1000)
        for partition, next_due in list(self._next_due_ms.items()):
            if next_due <= now_ms:
                self._fire_due(partition, now_ms)

    def _resync(self, partitions: dict[int, StorePartition]) -> None:
        # 0 = "read this partition's index on the next tick": its timers may be restored ones.
        self._next_due_ms = {
            p: self._next_due_ms.get(p, 0) if self._known.get(p) is store else 0
            for p, store in partitions.items()
        }
        self._known = dict(partitions)

    def _fire_due(self, partition: int, now_ms: int) -> None:
        queue = self.queue(partition)
        due = queue.due(now_ms, self._batch)
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        for timer in due:
            self._produce(timer, now, now_ms)
            queue.remove(timer)
            metrics.TIMERS_FIRED.labels(timer.kind.name).inc()
            metrics.TIMER_LATENESS.observe(max(now_ms - due_ms(timer.due_at), 0) / 1000)
        if len(due) == self._batch:
            self._next_due_ms[partition] = now_ms  # more are due: the next tick goes on
            return
        next_due = queue.next_due_at()
        self._next_due_ms[partition] = NOTHING_DUE if next_due is None else due_ms(next_due)

    def _produce(self, timer: Timer, now: datetime, now_ms: int) -> None:
        """The timer's command (or reminder), in the checkpoint's transaction, stamped ``now``:
        the escrow topology decides with the record's time, which is not before the deadline."""
        sent = fire(timer, now)
        value: Message
        if isinstance(sent, DeadlineReminder):
            topic, value = self._reminders, ReminderProto()
            fill(value, sent)
        else:
            topic, value = self._commands, mapping.COMMANDS.to_proto(sent)
        message = topic.serialize(key=timer.escrow_id.encode(), value=value, timestamp_ms=now_ms)
        self._sdf.processing_context.producer.produce(
            topic=topic.name, key=message.key, value=message.value, timestamp=now_ms
        )
