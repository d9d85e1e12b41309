"""What the ladder and latency benchmarks share: where the broker is, one id per run, processes
of their own (load generators, rung processes), consumer groups that skip history, reading outputs
from the end of their topics under read_committed, and cleaning up after a run.

Times that cross processes are ``time.monotonic()``: CLOCK_MONOTONIC, one clock for the whole
host, so a generator's send time and the measuring process's receive time compare directly.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.kafka_serdes import ENVELOPES, EnvelopeDeserializer, value_context
from tests.eventually import eventually
from tests.kafka import make_consumer
from tests.processes import TopologyProcess

ADMIN_TIMEOUT_S = 30


def bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def run_prefix(kind: str) -> str:
    """Names this run's consumer groups, keys and scratch topics: unique, so runs (and other
    people's processes) on one broker never share a group or a key."""
    return f"bench-{kind}-{uuid.uuid4().hex[:8]}"


def in_own_process(target: Callable[..., None], *args: Any) -> BaseProcess:
    """Starts ``target(*args)`` in a fresh interpreter (spawn: forking a process that holds
    librdkafka threads is unsafe)."""
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    process.start()
    return process


def module_process(module: str, args: list[str], workdir: Path, **env: str) -> TopologyProcess:
    """``python -m <module> <args>`` with ``TopologyProcess``'s environment, log and stop."""
    return _ModuleProcess([sys.executable, "-m", module, *args], workdir, **env)


class _ModuleProcess(TopologyProcess):
    def __init__(self, command: list[str], workdir: Path, **env: str) -> None:
        name = command[2].rsplit(".", 1)[-1]
        super().__init__(name, workdir / name, workdir / f"{name}.log", **env)
        self._command = command

    def start(self) -> TopologyProcess:
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(self._command, env=self._env, stdout=out, stderr=out)
        return self


class OutputReader:
    """Reads ``topics`` from their ends as they are now, under read_committed, timing each
    record when it becomes readable."""

    def __init__(self, bootstrap_servers: str, topics: Iterable[str]) -> None:
        self._consumer = make_consumer(bootstrap_servers)
        ends = []
        for topic in topics:
            for partition in self._consumer.list_topics(topic, 10).topics[topic].partitions:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
                ends.append(TopicPartition(topic, partition, high))
        self._consumer.assign(ends)
        self._decoders = {t: EnvelopeDeserializer(e) for t, e in ENVELOPES.items()}

    def poll(self, timeout_s: float) -> list[Message]:
        records: list[Message] = self._consumer.consume(10_000, timeout_s)
        errors = [r.error() for r in records if r.error()]
        if errors:
            raise RuntimeError(f"reading outputs: {errors[0]}")
        return records

    def decode(self, record: Message) -> Any:
        topic = record.topic() or ""
        return self._decoders[topic](record.value() or b"", value_context(topic))

    def close(self) -> None:
        self._consumer.close()


def create_topics(bootstrap_servers: str, names: list[str], partitions: int = 12) -> None:
    """Creates ``names`` and waits until every partition answers for its offsets."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    futures = admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    for future in futures.values():
        future.result(ADMIN_TIMEOUT_S)

    consumer = make_consumer(bootstrap_servers)

    def readable() -> bool:  # a new topic's partitions answer "not leader" for a moment
        for name in names:
            for partition in range(partitions):
                consumer.get_watermark_offsets(TopicPartition(name, partition), 5)
        return True

    try:
        eventually(readable, ADMIN_TIMEOUT_S, 0.2, ignoring=(KafkaException,), what="offsets")
    finally:
        consumer.close()


def delete_run(bootstrap_servers: str, prefix: str) -> None:
    """Deletes the run's topics (scratch topics, Quix changelogs) and consumer groups: every name
    holding ``prefix``, which no one else's holds."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    topics = [t for t in admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics if prefix in t]
    groups = admin.list_consumer_groups().result(ADMIN_TIMEOUT_S).valid
    names = [g.group_id for g in groups if prefix in g.group_id]
    pending = [*admin.delete_topics(topics).values()] if topics else []
    pending += [*admin.delete_consumer_groups(names).values()] if names else []
    for future in pending:
        future.result(ADMIN_TIMEOUT_S)


def machine_load() -> str:
    """The load averages: on a shared machine, what else ran beside the benchmark."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def summary_ms(latencies_s: list[float]) -> str:
    """p50/p95/p99/max of ``latencies_s``, in milliseconds."""
    if not latencies_s:
        return "no samples"
    ms = [s * 1000 for s in latencies_s]
    cells = [f"{percentile(ms, p):7.1f}" for p in (50, 95, 99)]
    return f"{'  '.join(cells)}  {max(ms):7.1f}"


def commit_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """Commits ``group``'s offsets at the end of ``topics``: the group starts from now."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    offsets = []
    for topic in topics:
        for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            offsets.append(TopicPartition(topic, partition, high))
    consumer.commit(offsets=offsets, asynchronous=False)
    consumer.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
