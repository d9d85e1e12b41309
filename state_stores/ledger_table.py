"""A materialized table of ``ledger.postings.v1`` (a ``KafkaTable``; the gateway's and the
reconciler's): every posting line by escrow, running balances per account, rail and currency
(money is integer cents, debit positive), and the money providers moved (``Movement``s) by provider
object and by time, kept as lines arrive so a query reads a handful of keys, not the log."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from connectors.payment_rail import Movement
from connectors.topics import LEDGER_POSTINGS
from kernel.model import Rail as RailName
from schemas.common.v1.types_pb2 import Rail
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import Account, TransactionKind
from state_stores.kafka_table import KafkaTable

logger = logging.getLogger(__name__)

BALANCE_PREFIX = "balance/"
# Line 0 of each such transaction, under moved/<movement>/<provider object id>/<transaction id>
# and moved-at/<occurred at, µs since the epoch, zero-padded>/<transaction id>.
MOVED_PREFIX, MOVED_AT_PREFIX = "moved/", "moved-at/"
# The transactions that record money a provider moved, and the provider object each is matched by:
# a payment received and a return by the provider payment, a release or a refund by the payout.
MOVEMENTS = {
    TransactionKind.TRANSACTION_KIND_ARRIVAL: Movement.PAYMENT,
    TransactionKind.TRANSACTION_KIND_RELEASE: Movement.TRANSFER,
    TransactionKind.TRANSACTION_KIND_REFUND: Movement.REFUND,
    TransactionKind.TRANSACTION_KIND_RETURN_SETTLED: Movement.RETURN,
}


@dataclass(frozen=True)
class Balance:
    """One account's balance on one rail: ``account`` and ``rail`` are the enum names without
    their prefixes (``ESCROW_HOLDING``, ``STRIPE``); ``cents`` is signed, debit positive."""

    account: str
    rail: str
    currency: str
    cents: int


@dataclass(frozen=True)
class Moved:
    """Money the ledger says a provider moved (one transaction): ``provider_object_id`` is the
    payment (payments, returns) or the payout (transfers, refunds) it moved by; ``amount_cents``
    positive; ``rail`` the provider's."""

    movement: Movement
    provider_object_id: str
    transaction_id: str
    escrow_id: str
    rail: RailName
    amount_cents: int
    currency: str
    occurred_at: datetime


def held_cents(balances: Iterable[Balance]) -> int:
    """The money the escrows hold now, all rails (seeds: "escrow.value.total")."""
    return sum(b.cents for b in balances if b.account == "ESCROW_HOLDING")


class LedgerTable(KafkaTable):
    """:param bootstrap_servers: the cluster.
    :param path: the RocksDB directory (one per gateway instance).
    :param topic: the postings topic. Default - ``ledger.postings.v1``.
    :param consumer_config: librdkafka settings added to (or overriding) the table's own.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        path: Path,
        topic: str = LEDGER_POSTINGS,
        consumer_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(bootstrap_servers, path, topic, consumer_config)
        self._decode = EnvelopeDeserializer(LedgerPosting)

    def balances(self) -> list[Balance]:
        """Every account with postings, by account, rail and currency."""
        found = []
        for key, cents in self._db.items(from_key=BALANCE_PREFIX):
            if not str(key).startswith(BALANCE_PREFIX):
                break
            account, rail, currency = str(key).removeprefix(BALANCE_PREFIX).split("/")
            found.append(Balance(account, rail, currency, int(cents)))
        return found

    def postings(self, escrow_id: str) -> list[LedgerPosting]:
        """The escrow's posting lines, by transaction id and line."""
        prefix = f"posting/{escrow_id}/"
        lines = []
        for key, raw in self._db.items(from_key=prefix):
            if not str(key).startswith(prefix):
                break
            lines.append(LedgerPosting.FromString(raw))
        return lines

    def moved_since(self, since: datetime) -> list[Moved]:
        """What providers moved, as the ledger recorded it, from ``since`` on (by the causing
        event's time), oldest first; costs O(what it returns)."""
        start = f"{MOVED_AT_PREFIX}{_micros(since):020d}/"
        found = []
        for key, raw in self._db.items(from_key=start):
            if not str(key).startswith(MOVED_AT_PREFIX):
                break
            found.append(_moved(LedgerPosting.FromString(raw)))
        return found

    def moved_by(self, movement: Movement, provider_object_id: str) -> list[Moved]:
        """Every transaction recording ``movement`` by that provider object (more than one: the
        ledger counted it twice)."""
        prefix = f"{MOVED_PREFIX}{movement}/{provider_object_id}/"
        found = []
        for key, raw in self._db.items(from_key=prefix):
            if not str(key).startswith(prefix):
                break
            found.append(_moved(LedgerPosting.FromString(raw)))
        return found

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return  # the topic is not compacted: no tombstones
        try:
            line: LedgerPosting = self._decode(value, value_context(self._topic))
        except DeserializationError as exc:  # keep serving the rest; the producer has a bug
            logger.error("ledger table: skipping a record: %s", exc)
            return
        posting_key = f"posting/{line.escrow_id}/{line.transaction_id}/{line.index:04d}"
        if self._db.get(posting_key) is not None:
            return  # the same line again (ids are deterministic): counted once
        self._db[posting_key] = line.SerializeToString(deterministic=True)
        if line.index == 0 and line.kind in MOVEMENTS:  # the first line: the money, debited
            self._index_movement(line)
        account = Account.Name(line.account).removeprefix("ACCOUNT_")
        rail = Rail.Name(line.rail).removeprefix("RAIL_")
        balance_key = f"{BALANCE_PREFIX}{account}/{rail}/{line.currency}"
        self._db[balance_key] = str(int(self._db.get(balance_key) or 0) + line.amount_cents)

    def _index_movement(self, line: LedgerPosting) -> None:
        moved, raw = _moved(line), line.SerializeToString(deterministic=True)
        by_object = f"{moved.movement}/{moved.provider_object_id}/{line.transaction_id}"
        self._db[f"{MOVED_PREFIX}{by_object}"] = raw
        self._db[f"{MOVED_AT_PREFIX}{_micros(moved.occurred_at):020d}/{line.transaction_id}"] = raw


def _moved(line: LedgerPosting) -> Moved:
    movement = MOVEMENTS[line.kind]
    by_payout = movement in (Movement.TRANSFER, Movement.REFUND)
    return Moved(
        movement,
        line.provider_object_id if by_payout else line.provider_payment_id,
        line.transaction_id,
        line.escrow_id,
        RailName(line.rail),
        line.amount_cents,
        line.currency,
        line.cause.occurred_at.ToDatetime(tzinfo=UTC),
    )


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)
