"""The gateway's materialized table of ``escrow.views.v1`` (DESIGN.md §1, like a Kafka Streams
GlobalKTable): every partition, no consumer group, into a local RocksDB (rocksdict), with an index
by contract id (a command's outcome is found through its escrow: command ids start with it) and
one of the deposits waiting for review, oldest first. The consumed offsets are stored with the
data, so a restart resumes where it stopped.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from rocksdict import Rdict

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from connectors.topics import ESCROW_VIEWS
from schemas.escrow.v1.views_pb2 import EscrowView, ReviewStatus

logger = logging.getLogger(__name__)

REVIEW_PREFIX = "review/"


class ViewTable:
    """:param bootstrap_servers: the cluster.
    :param path: the RocksDB directory (one per gateway instance).
    :param topic: the view topic. Default - ``escrow.views.v1``.
    :param consumer_config: librdkafka settings added to (or overriding) the table's own.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        path: Path,
        topic: str = ESCROW_VIEWS,
        consumer_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._topic = topic
        path.mkdir(parents=True, exist_ok=True)
        self._db = Rdict(str(path))
        self._decode = EnvelopeDeserializer(EscrowView)
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                # librdkafka wants a group id; assign() never joins it.
                "group.id": f"view-table-{uuid.uuid4().hex}",
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
        self._thread = threading.Thread(target=self._run, daemon=True, name="view-table")

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

    def get(self, escrow_id: str) -> EscrowView | None:
        raw = self._db.get(f"view/{escrow_id}")
        return EscrowView.FromString(raw) if raw is not None else None

    def escrow_of_contract(self, contract_id: str) -> str | None:
        found = self._db.get(f"contract/{contract_id}")
        return str(found) if found is not None else None

    def pending_reviews(self, limit: int) -> list[EscrowView]:
        """Up to ``limit`` escrows whose deposit waits for review, the longest waiting first;
        a page costs O(limit), not a scan of the table."""
        views: list[EscrowView] = []
        for key in self._db.keys(from_key=REVIEW_PREFIX):
            if not str(key).startswith(REVIEW_PREFIX) or len(views) >= limit:
                break
            view = self.get(str(key).rsplit("/", 1)[1])
            if view is not None:
                views.append(view)
        return views

    def _run(self) -> None:
        while self._running:
            records = self._consumer.consume(500, 0.1)
            for record in records:
                error = record.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:  # noqa: SLF001 - its name
                        self._at_end.add(record.partition())
                    else:
                        logger.warning("view table: %s", error)
                    continue
                self._apply(record.key(), record.value())
                self._positions[record.partition()] = record.offset() + 1
                self._db[f"offset/{record.partition()}"] = str(record.offset() + 1)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        escrow_id = key.decode()
        if value is None:  # a tombstone
            self._unindex(escrow_id)
            self._db.delete(f"view/{escrow_id}")
            return
        try:
            view: EscrowView = self._decode(value, value_context(self._topic))
        except DeserializationError as exc:  # keep serving the rest; the producer has a bug
            logger.error("view table: skipping %s: %s", escrow_id, exc)
            return
        self._unindex(escrow_id)
        self._db[f"view/{escrow_id}"] = view.SerializeToString(deterministic=True)
        if _review_key(view):
            self._db[_review_key(view)] = escrow_id
        if view.contract_id:
            self._db[f"contract/{view.contract_id}"] = escrow_id

    def _unindex(self, escrow_id: str) -> None:
        """Removes the escrow's stored view from the review index."""
        before = self.get(escrow_id)
        if before is not None and _review_key(before):
            self._db.delete(_review_key(before))


def _review_key(view: EscrowView) -> str:
    """``review/<held at, µs since the epoch, zero-padded>/<escrow_id>`` while a deposit waits
    for review, else "": keys sort by waiting time."""
    if view.review.status != ReviewStatus.REVIEW_STATUS_PENDING:
        return ""
    held_us = view.review.held_at.seconds * 1_000_000 + view.review.held_at.nanos // 1000
    return f"{REVIEW_PREFIX}{held_us:020d}/{view.escrow_id}"
