"""The gateway's materialized table of ``escrow.views.v1`` (DESIGN.md §1; a ``KafkaTable``), with
an index by contract id (a command's outcome is found through its escrow: command ids start with
it) and one of the deposits waiting for review, oldest first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from connectors.topics import ESCROW_VIEWS
from schemas.escrow.v1.views_pb2 import EscrowView, ReviewStatus
from state_stores.kafka_table import KafkaTable

logger = logging.getLogger(__name__)

REVIEW_PREFIX = "review/"


class ViewTable(KafkaTable):
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
        super().__init__(bootstrap_servers, path, topic, consumer_config)
        self._decode = EnvelopeDeserializer(EscrowView)

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
