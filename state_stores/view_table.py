"""A materialized table of ``escrow.views.v1`` (DESIGN.md §1; a ``KafkaTable``; the gateway's and
the reconciler's), with an index by contract id (a command's outcome is found through its escrow:
command ids start with it), one of the deposits waiting for review, oldest first, one of the
escrows waiting for the provider (unfunded; a payout submitted and unconfirmed), longest waiting
first (seeds: "Reconciliation"), and each party's escrows and the admins' queues
(``view_indexes``). The indexes are kept as views arrive, so they are rebuilt from the topic with
the table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from connectors.topics import ESCROW_VIEWS
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView, HistoryEntry, ReviewStatus
from state_stores import view_indexes
from state_stores.kafka_table import KafkaTable
from state_stores.view_indexes import Listing

logger = logging.getLogger(__name__)

REVIEW_PREFIX = "review/"
# The escrow events that submit a payout the provider confirms later.
PAYOUT_SUBMITTED = ("EscrowTransferSubmitted", "EscrowRefundSubmitted")


class Waiting(StrEnum):
    """What an escrow waits for the provider to report: its payment, or a submitted payout."""

    FUNDING = "funding"
    PAYOUT = "payout"


class ViewTable(KafkaTable, Listing):
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

    def _keys_from(self, key: str) -> Iterator[str]:
        return (str(k) for k in self._db.keys(from_key=key))

    def waiting(self, what: Waiting, since: datetime, before: datetime) -> Iterator[EscrowView]:
        """The escrows waiting for ``what`` since a time in [``since``, ``before``), the longest
        waiting first: unfunded escrows since they were created, payouts since they were
        submitted. Costs O(what it yields), not a scan of the table."""
        prefix = f"{_WAITING_PREFIX}{what}/"
        until = f"{prefix}{_micros(before):020d}/"
        for key in self._db.keys(from_key=f"{prefix}{_micros(since):020d}/"):
            if not str(key).startswith(prefix) or str(key) >= until:
                return
            view = self.get(str(key).rsplit("/", 1)[1])
            if view is not None:
                yield view

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
        for index_key in _index_keys(view):
            self._db[index_key] = escrow_id
        if view.contract_id:
            self._db[f"contract/{view.contract_id}"] = escrow_id

    def _unindex(self, escrow_id: str) -> None:
        """Removes the escrow's stored view from every index."""
        before = self.get(escrow_id)
        for index_key in _index_keys(before) if before is not None else ():
            self._db.delete(index_key)


_WAITING_PREFIX = "waiting/"


def payout_submitted(view: EscrowView) -> HistoryEntry | None:
    """The event that submitted the payout the view waits for (``payout_submitted_id``), if it
    is still in the view's (bounded) history."""
    if not view.payout_submitted_id:
        return None
    entries = (e for e in reversed(view.history) if e.event_type in PAYOUT_SUBMITTED)
    return next(entries, None)


def _index_keys(view: EscrowView) -> list[str]:
    """The view's keys in the party and queue indexes (``view_indexes``), and in the review and
    waiting indexes: ``review/<held at>/<escrow_id>`` while a
    deposit waits for review, ``waiting/funding/<created at>/<escrow_id>`` while unfunded,
    ``waiting/payout/<submitted at>/<escrow_id>`` while a payout waits for the provider (times in
    µs since the epoch, zero-padded, so keys sort by waiting time)."""
    keys = []
    if view.review.status == ReviewStatus.REVIEW_STATUS_PENDING:
        keys.append(f"{REVIEW_PREFIX}{_micros(view.review.held_at):020d}/{view.escrow_id}")
    if view.status == EscrowStatus.ESCROW_STATUS_AWAIT_FUNDS and view.payment.provider_payment_id:
        keys.append(
            f"{_WAITING_PREFIX}{Waiting.FUNDING}/{_micros(view.created_at):020d}/{view.escrow_id}"
        )
    if view.payout_submitted_id:
        submitted = payout_submitted(view)
        since = submitted.occurred_at if submitted is not None else view.updated_at
        keys.append(f"{_WAITING_PREFIX}{Waiting.PAYOUT}/{_micros(since):020d}/{view.escrow_id}")
    return keys + view_indexes.keys_of(view)


def _micros(at: Timestamp | datetime) -> int:
    """A ``Timestamp`` or a ``datetime`` in µs since the epoch."""
    if isinstance(at, datetime):
        return int(at.timestamp() * 1_000_000)
    return int(at.seconds) * 1_000_000 + int(at.nanos) // 1000
