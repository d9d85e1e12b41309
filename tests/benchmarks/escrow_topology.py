"""Benchmark of the escrow topology alone, on the real broker, exactly-once.

    .venv/bin/python -m tests.benchmarks.escrow_topology [--commands 5000] [--rate 200]

Starts one ``escrow-streams run escrow`` process in a fresh consumer group whose offsets are
committed at the current end of its input topics (so history is skipped), then (1) produces
``--commands`` CreateEscrow commands as fast as it can and reports throughput (commands/s until the
last EscrowAwaitFunds is readable, read_committed), and (2) sends commands at ``--rate``/s and
reports command->event latency percentiles (from the produce call to the event being readable by a
read_committed consumer).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer

from connectors.kafka_config import producer_config
from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from connectors.topics import ESCROW_COMMANDS, ESCROW_EVENTS
from kernel import mapping
from schemas.escrow.v1.commands_pb2 import EscrowCommand
from tests.benchmarks.harness import percentile
from tests.builders import create_escrow
from tests.eventually import eventually
from tests.kafka import Tail
from tests.processes import TopologyProcess
from topologies.settings import TopologySettings


class Bench:
    def __init__(self, bootstrap: str) -> None:
        self.producer = Producer({**producer_config(bootstrap), "linger.ms": 1})
        self.serialize = EnvelopeSerializer(EscrowCommand, schema_registry(None))
        self.events = Tail(bootstrap, ESCROW_EVENTS)
        self.sent_at: dict[str, float] = {}
        self.seen_at: dict[str, float] = {}

    def send(self, escrow_id: str) -> None:
        envelope = mapping.COMMANDS.to_proto(create_escrow(escrow_id))
        self.producer.produce(
            ESCROW_COMMANDS,
            key=escrow_id,
            value=self.serialize(envelope, value_context(ESCROW_COMMANDS)),
        )
        self.sent_at[escrow_id] = time.perf_counter()
        self.producer.poll(0)

    def drain(self, timeout_s: float = 0.01) -> None:
        """Records when each escrow's EscrowAwaitFunds (its second event) became readable."""
        self.producer.poll(0)
        for record in self.events.poll_batch(timeout_s):
            key = record.key().decode()
            if key in self.sent_at and key not in self.seen_at:
                if self.events.decode(record).WhichOneof("event") == "escrow_await_funds":
                    self.seen_at[key] = time.perf_counter()

    def warm_up(self, timeout_s: float) -> None:
        """Sends a command every second until one is answered (the group has joined)."""
        try:
            eventually(self._answered_within_a_second, timeout_s, interval_s=0, what="an answer")
        except TimeoutError:
            raise SystemExit(f"the topology did not answer within {timeout_s} s") from None

    def _answered_within_a_second(self) -> bool:
        self.send(f"bench-warm-{uuid.uuid4().hex}")
        self.producer.flush(10)
        try:
            eventually(self._drained_an_answer, 1, interval_s=0, what="an answer")
        except TimeoutError:
            return False  # send another
        return True

    def _drained_an_answer(self) -> bool:
        self.drain(0.1)  # the wait between tries
        return bool(self.seen_at)

    def wait_all(self, ids: list[str], timeout_s: float) -> None:
        def all_seen() -> bool:
            if all(i in self.seen_at for i in ids):
                return True
            self.drain(0.1)  # the wait between tries
            return False

        try:
            eventually(all_seen, timeout_s, interval_s=0, what="an event for every escrow")
        except TimeoutError:
            missing = sum(i not in self.seen_at for i in ids)
            raise SystemExit(f"{missing} escrows got no event within {timeout_s} s") from None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=200, help="commands/s of the latency run")
    parser.add_argument("--latency-commands", type=int, default=1000)
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")

    workdir = Path(tempfile.mkdtemp(prefix="bench-escrow-"))
    topology = TopologyProcess(
        "escrow",
        workdir / "state",
        workdir / "escrow.log",
        CONSUMER_GROUP_PREFIX=f"bench-{uuid.uuid4().hex[:8]}",
        AUTO_OFFSET_RESET="latest",
        LOG_LEVEL="WARNING",
    )
    bench = Bench(bootstrap)
    topology.start()
    try:
        bench.warm_up(timeout_s=120)

        ids = [f"bench-{uuid.uuid4().hex}" for _ in range(args.commands)]
        started = time.perf_counter()
        for escrow_id in ids:
            bench.send(escrow_id)
        bench.producer.flush(60)
        bench.wait_all(ids, timeout_s=600)
        elapsed = max(bench.seen_at[i] for i in ids) - started

        paced = [f"bench-lat-{uuid.uuid4().hex}" for _ in range(args.latency_commands)]
        next_send = time.perf_counter()
        for escrow_id in paced:
            while time.perf_counter() < next_send:
                bench.drain(0.001)
            bench.send(escrow_id)
            bench.producer.flush(10)
            next_send += 1 / args.rate
        bench.wait_all(paced, timeout_s=120)
        latencies = [(bench.seen_at[i] - bench.sent_at[i]) * 1000 for i in paced]
    finally:
        topology.stop()

    interval = TopologySettings().commit_interval_s
    rate = args.commands / elapsed
    print(f"escrow topology, exactly-once, commit interval {interval} s, 1 instance, 12 partitions")
    print(f"throughput: {args.commands} CreateEscrow in {elapsed:.2f} s = {rate:,.0f} commands/s")
    print(f"  (each: 2 events + 1 payment command = {3 * rate:,.0f} records/s out)")
    print(
        f"latency at {args.rate} commands/s, {len(latencies)} commands (ms): "
        f"p50 {percentile(latencies, 50):.1f}  p95 {percentile(latencies, 95):.1f}  "
        f"p99 {percentile(latencies, 99):.1f}  max {max(latencies):.1f}  "
        f"mean {statistics.mean(latencies):.1f}"
    )


if __name__ == "__main__":
    main()
