"""The discrepancies already reported: a ``KafkaTable`` of ``reconciliation.discrepancies.v1``'s
ids, so a reconciliation pass reports only what no pass reported before (ids are deterministic:
the same mismatch found again has the same id)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from connectors.topics import RECONCILIATION_DISCREPANCIES
from schemas.reconciliation.v1.discrepancies_pb2 import ReconciliationDiscrepancy
from state_stores.kafka_table import KafkaTable

logger = logging.getLogger(__name__)


class DiscrepancyTable(KafkaTable):
    """:param bootstrap_servers: the cluster.
    :param path: the RocksDB directory (one per process).
    :param topic: the discrepancies topic. Default - ``reconciliation.discrepancies.v1``.
    :param consumer_config: librdkafka settings added to (or overriding) the table's own.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        path: Path,
        topic: str = RECONCILIATION_DISCREPANCIES,
        consumer_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(bootstrap_servers, path, topic, consumer_config)
        self._decode = EnvelopeDeserializer(ReconciliationDiscrepancy)

    def reported(self, discrepancy_id: str) -> bool:
        return self._db.get(f"reported/{discrepancy_id}") is not None

    def mark_reported(self, discrepancy_id: str) -> None:
        """Records a discrepancy this process produced, before the topic brings it back."""
        self._db[f"reported/{discrepancy_id}"] = b"1"

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            found: ReconciliationDiscrepancy = self._decode(value, value_context(self._topic))
        except DeserializationError as exc:
            logger.error("discrepancy table: skipping a record: %s", exc)
            return
        self.mark_reported(found.discrepancy_id)
