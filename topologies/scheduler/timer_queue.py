"""Durable timers in one partition of the scheduler's state store (DESIGN.md §1 "scheduler", §4).

Two column families of the store partition, both changelogged by Quix with the rest of the
checkpoint (so a restart, a rebalance or a lost disk restores them from Kafka, and a timer's
removal commits atomically with the command it fired):

- ``scheduler-timers``: per escrow (prefix: its id), ``scheduler.v1.EscrowTimers``, its timers;
- ``scheduler-due``: the same timers ordered by due time, key
  ``due|<due ms, 8 bytes big-endian>|<escrow id>|<kind>``, value ``scheduler.v1.Timer``. Finding
  the due timers is one range read from the start of the index: its cost is proportional to the
  timers that are due, never to the timers (or escrows) that are not.

Quix exposes no public range read over a store; ``_get_items`` (the merge of the transaction's
uncommitted writes with RocksDB that its windowed and timestamped stores use) is the one
internal call here, pinned by ``tests/integration/test_scheduler_topology.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from quixstreams.state.rocksdb.transaction import RocksDBPartitionTransaction
from quixstreams.state.serialization import int_to_bytes

from kernel.mapping import fill, from_proto
from schemas.scheduler.v1.timers_pb2 import EscrowTimers
from schemas.scheduler.v1.timers_pb2 import Timer as TimerProto
from topologies.scheduler.timers import Timer, TimerKind

TIMERS_CF = "scheduler-timers"
DUE_CF = "scheduler-due"
DUE_PREFIX = b"due"
TIMERS_KEY = b"timers"
SEPARATOR = b"|"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimerQueue:
    """The timers of one store partition, through the checkpoint's open transaction."""

    def __init__(self, transaction: RocksDBPartitionTransaction) -> None:
        self._tx = transaction

    def timers_of(self, escrow_id: str) -> dict[TimerKind, Timer]:
        raw = self._tx.get_bytes(TIMERS_KEY, prefix=escrow_id.encode(), cf_name=TIMERS_CF)
        if raw is None:
            return {}
        timers = (_timer(t) for t in EscrowTimers.FromString(raw).timers)
        return {t.kind: t for t in timers}

    def replace(
        self, escrow_id: str, before: Mapping[TimerKind, Timer], after: Mapping[TimerKind, Timer]
    ) -> None:
        """Makes ``after`` the escrow's timers (``before``: what ``timers_of`` returned)."""
        for kind, timer in before.items():
            if after.get(kind) != timer:
                self._tx.delete(_due_key(timer), prefix=DUE_PREFIX, cf_name=DUE_CF)
        for kind, timer in after.items():
            if before.get(kind) != timer:
                self._tx.set_bytes(
                    _due_key(timer), _encode(timer), prefix=DUE_PREFIX, cf_name=DUE_CF
                )
        self._write(escrow_id, after.values())

    def due(self, now_ms: int, limit: int) -> list[Timer]:
        """Up to ``limit`` timers due at ``now_ms`` (epoch ms), earliest first."""
        items = self._tx._get_items(  # noqa: SLF001 - see the module docstring
            start=0, end=now_ms + 1, prefix=DUE_PREFIX, cf_name=DUE_CF, limit=limit
        )
        return [_timer(TimerProto.FromString(value)) for _, value in items]

    def next_due_at(self) -> datetime | None:
        """When the earliest timer is due; None when there is none."""
        items = self._tx._get_items(  # noqa: SLF001 - see the module docstring
            start=0, end=2**63 - 1, prefix=DUE_PREFIX, cf_name=DUE_CF, limit=1
        )
        return _timer(TimerProto.FromString(items[0][1])).due_at if items else None

    def remove(self, timer: Timer) -> None:
        """Removes a timer that fired."""
        timers = self.timers_of(timer.escrow_id)
        if timers.get(timer.kind) == timer:
            del timers[timer.kind]
            self._write(timer.escrow_id, timers.values())
        self._tx.delete(_due_key(timer), prefix=DUE_PREFIX, cf_name=DUE_CF)

    def _write(self, escrow_id: str, timers: Iterable[Timer]) -> None:
        prefix = escrow_id.encode()
        message = EscrowTimers()
        for timer in sorted(timers, key=lambda t: t.kind):
            fill(message.timers.add(), timer)
        if message.timers:
            value = message.SerializeToString(deterministic=True)
            self._tx.set_bytes(TIMERS_KEY, value, prefix=prefix, cf_name=TIMERS_CF)
        else:
            self._tx.delete(TIMERS_KEY, prefix=prefix, cf_name=TIMERS_CF)


def _due_key(timer: Timer) -> bytes:
    return SEPARATOR.join(
        (
            int_to_bytes(due_ms(timer.due_at)),
            timer.escrow_id.encode(),
            str(int(timer.kind)).encode(),
        )
    )


def due_ms(moment: datetime) -> int:
    """``moment`` in epoch milliseconds, rounded up: a record stamped then is not early."""
    return -(-(moment - EPOCH) // timedelta(milliseconds=1))


def _encode(timer: Timer) -> bytes:
    message = TimerProto()
    fill(message, timer)
    return message.SerializeToString(deterministic=True)


def _timer(message: TimerProto) -> Timer:
    return from_proto(message, Timer)
