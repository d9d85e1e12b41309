"""The timer queue on a real RocksDB store partition of Quix Streams (no broker): what one
checkpoint's transaction writes, the next one reads; due timers come earliest first, and only
those."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from quixstreams.state.rocksdb import RocksDBStorePartition

from topologies.scheduler.timer_queue import TimerQueue, due_ms
from topologies.scheduler.timers import Timer, TimerKind

R = TypeVar("R")
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def partition(tmp_path: Path) -> Iterator[RocksDBStorePartition]:
    store = RocksDBStorePartition(str(tmp_path / "0"))
    yield store
    store.close()  # type: ignore[no-untyped-call]  # quixstreams leaves it unannotated


def committed(partition: RocksDBStorePartition, work: Callable[[TimerQueue], R]) -> R:
    """Runs ``work(queue)`` in a transaction and commits it, as a checkpoint would."""
    transaction = partition.begin()
    result = work(TimerQueue(transaction))
    transaction.prepare()
    transaction.flush()
    return result


def timer(escrow_id: str, seconds: float, kind: TimerKind = TimerKind.FUNDING_TIMEOUT) -> Timer:
    return Timer(escrow_id, kind, T0 + timedelta(seconds=seconds))


def at(seconds: float) -> int:
    return due_ms(T0 + timedelta(seconds=seconds))


def test_timers_set_in_one_transaction_are_found_due_in_the_next_earliest_first(
    partition: RocksDBStorePartition,
) -> None:
    late, early = timer("esc-b", 20), timer("esc-a", 10)
    committed(partition, lambda q: q.replace("esc-b", {}, {late.kind: late}))
    committed(partition, lambda q: q.replace("esc-a", {}, {early.kind: early}))

    assert committed(partition, lambda q: q.due(at(9.999), 10)) == []
    assert committed(partition, lambda q: q.due(at(10), 10)) == [early]
    assert committed(partition, lambda q: q.due(at(30), 10)) == [early, late]
    assert committed(partition, lambda q: q.next_due_at()) == early.due_at


def test_a_moved_timer_is_due_only_at_its_new_time(partition: RocksDBStorePartition) -> None:
    first, moved = timer("esc-a", 10), timer("esc-a", 50)
    committed(partition, lambda q: q.replace("esc-a", {}, {first.kind: first}))

    committed(partition, lambda q: q.replace("esc-a", q.timers_of("esc-a"), {moved.kind: moved}))

    assert committed(partition, lambda q: q.due(at(40), 10)) == []
    assert committed(partition, lambda q: q.timers_of("esc-a")) == {moved.kind: moved}


def test_a_cancelled_or_fired_timer_is_gone_and_the_others_stay(
    partition: RocksDBStorePartition,
) -> None:
    funding = timer("esc-a", 10)
    release = timer("esc-a", 20, TimerKind.AUTO_RELEASE)
    other = timer("esc-b", 15)
    both = {funding.kind: funding, release.kind: release}
    committed(partition, lambda q: q.replace("esc-a", {}, both))
    committed(partition, lambda q: q.replace("esc-b", {}, {other.kind: other}))

    committed(partition, lambda q: q.replace("esc-a", both, {release.kind: release}))
    committed(partition, lambda q: q.remove(other))

    assert committed(partition, lambda q: q.due(at(60), 10)) == [release]
    assert committed(partition, lambda q: q.timers_of("esc-b")) == {}


def test_uncommitted_writes_are_seen_by_the_same_transaction(
    partition: RocksDBStorePartition,
) -> None:
    """The handler sets a timer and the tick reads the index before the checkpoint commits."""
    due = timer("esc-a", 1)

    def set_then_read(queue: TimerQueue) -> list[Timer]:
        queue.replace("esc-a", {}, {due.kind: due})
        return queue.due(at(5), 10)

    assert committed(partition, set_then_read) == [due]


def test_a_read_returns_at_most_the_limit(partition: RocksDBStorePartition) -> None:
    def set_five(queue: TimerQueue) -> None:
        for i in range(5):
            t = timer(f"esc-{i}", i)
            queue.replace(t.escrow_id, {}, {t.kind: t})

    committed(partition, set_five)

    first = committed(partition, lambda q: q.due(at(10), 3))

    assert [t.escrow_id for t in first] == ["esc-0", "esc-1", "esc-2"]
