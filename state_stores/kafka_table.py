"""A topic materialized into a local RocksDB (rocksdict), like a Kafka Streams GlobalKTable:
every partition, no consumer group, read_committed. The consumed offsets are stored with the
data, so a restart resumes where it stopped. Subclasses say what a record does to the table
(``_apply``) and how it is read."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from rocksdict import Rdict

logger = logging.getLogger(__name__)


class KafkaTable:
    """:param bootstrap_servers: the cluster.
    :param path: the RocksDB directory (one per process).
    :param topic: the topic materialized.
    :param consumer_config: librdkafka settings added to (or overriding) the table's own.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        path: Path,
        topic: str,
        consumer_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._topic = topic
        path.mkdir(parents=True, exist_ok=True)
        self._db = Rdict(str(path))
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                # librdkafka wants a group id; assign() never joins it.
                "group.id": f"table-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 20,
                # Reaching the end of a partition is reported: that is what "caught up" means.
                "enable.partition.eof": True,
                **(consumer_config or {}),
            }
        )
        self._positions: dict[int, int] = {}
        self._at_end: set[int] = set()
        self._running = False
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"table-{topic}")

    def start(self) -> None:
        """Assigns every partition from the stored offsets and starts following the topic."""
        partitions = (
            self._consumer.list_topics(self._topic, timeout=30).topics[self._topic].partitions
        )
        assignment = []
        for partition in partitions:
            stored = self._db.get(f"offset/{partition}")
            offset = int(stored) if stored is not None else OFFSET_BEGINNING
            assignment.append(TopicPartition(self._topic, partition, offset))
            self._positions[partition] = int(stored) if stored is not None else 0
        self._consumer.assign(assignment)
        self._running = True
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread.is_alive():
            self._thread.join(10)
        self._consumer.close()
        self._db.close()

    @property
    def ready(self) -> bool:
        """Every partition has been read to its end once since start."""
        return bool(self._positions) and self._at_end >= set(self._positions)

    def lag(self) -> int:
        """Records behind the last known end of the topic, over all partitions."""
        total = 0
        for partition, position in self._positions.items():
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(self._topic, partition), cached=True
            )
            total += max(high - position, 0) if high >= 0 else 0
        return total

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        """What one record does to the table (value None: a tombstone)."""
        raise NotImplementedError

    def _run(self) -> None:
        while self._running:
            records = self._consumer.consume(500, 0.1)
            for record in records:
                error = record.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:  # noqa: SLF001 - its name
                        self._at_end.add(record.partition())
                    else:
                        logger.warning("%s table: %s", self._topic, error)
                    continue
                self._apply(record.key(), record.value())
                self._positions[record.partition()] = record.offset() + 1
                self._db[f"offset/{record.partition()}"] = str(record.offset() + 1)
