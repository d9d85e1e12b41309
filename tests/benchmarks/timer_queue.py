"""Benchmark of a scheduler tick's store work against the number of pending timers.

    .venv/bin/python -m tests.benchmarks.timer_queue [--pending 100000] [--rounds 200]

Fills one real RocksDB store partition of Quix Streams (the scheduler's store, no broker) with
``--pending`` timers due over the next 7 days, then times what a tick does on a partition whose
earliest timer is due: read the due timers, remove each, read the next due time, commit. It does
so with 0, 1, 10 and 100 timers due, at ``--pending`` pending timers and at 1% of that, and prints
the median per tick and the ratio of the two: about 1 means the work per tick follows the due
timers, not the pending ones. Producing the fired commands is not included (one produce each).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quixstreams.state.rocksdb import RocksDBStorePartition

from topologies.scheduler.timer_queue import TimerQueue, due_ms
from topologies.scheduler.timers import Timer, TimerKind

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WEEK_S = 7 * 24 * 3600
FILL_BATCH = 10_000


def filled(path: Path, pending: int) -> RocksDBStorePartition:
    """A partition with ``pending`` timers due evenly over the week after NOW."""
    partition = RocksDBStorePartition(str(path))
    for start in range(0, pending, FILL_BATCH):
        transaction = partition.begin()
        queue = TimerQueue(transaction)
        for i in range(start, min(start + FILL_BATCH, pending)):
            due = NOW + timedelta(seconds=1 + i * WEEK_S / pending)
            timer = Timer(f"esc-{i:08d}", TimerKind.AUTO_RELEASE, due)
            queue.replace(timer.escrow_id, {}, {timer.kind: timer})
        transaction.prepare()
        transaction.flush()
    return partition


def due_now(partition: RocksDBStorePartition, count: int) -> int:
    """Adds ``count`` timers due before NOW; returns NOW in epoch ms."""
    transaction = partition.begin()
    queue = TimerQueue(transaction)
    for i in range(count):
        timer = Timer(f"due-{i:04d}", TimerKind.FUNDING_TIMEOUT, NOW - timedelta(seconds=1))
        queue.replace(timer.escrow_id, {}, {timer.kind: timer})
    transaction.prepare()
    transaction.flush()
    return due_ms(NOW)


def tick(partition: RocksDBStorePartition, now_ms: int) -> float:
    """One tick's store work on the partition; seconds."""
    started = time.perf_counter()
    transaction = partition.begin()
    queue = TimerQueue(transaction)
    for timer in queue.due(now_ms, 500):
        queue.remove(timer)
    queue.next_due_at()
    transaction.prepare()
    transaction.flush()
    return time.perf_counter() - started


def median_tick_us(partition: RocksDBStorePartition, due: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        now_ms = due_now(partition, due)
        samples.append(tick(partition, now_ms))
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    small = max(args.pending // 100, 1)
    with tempfile.TemporaryDirectory(prefix="timer-bench-") as tmp:
        started = time.perf_counter()
        big_store = filled(Path(tmp) / "big", args.pending)
        small_store = filled(Path(tmp) / "small", small)
        print(
            f"filled {args.pending:,} + {small:,} timers in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"{'due':>5} {f'{small:,} pending':>16} {f'{args.pending:,} pending':>18} {'ratio':>7}"
        )
        for due in (0, 1, 10, 100):
            base = median_tick_us(small_store, due, args.rounds)
            big = median_tick_us(big_store, due, args.rounds)
            print(f"{due:>5} {base:>13.0f} us {big:>15.0f} us {big / base:>7.2f}")
        big_store.close()  # type: ignore[no-untyped-call]  # quixstreams leaves it unannotated
        small_store.close()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
