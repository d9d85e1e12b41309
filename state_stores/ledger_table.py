"""The gateway's materialized table of ``ledger.postings.v1`` (a ``KafkaTable``): every posting
line by escrow, and running balances per account, rail and currency (money is integer cents,
debit positive), kept as lines arrive so a balance query reads a handful of keys, not the log."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from connectors.topics import LEDGER_POSTINGS
from schemas.common.v1.types_pb2 import Rail
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import Account
from state_stores.kafka_table import KafkaTable

logger = logging.getLogger(__name__)

BALANCE_PREFIX = "balance/"


@dataclass(frozen=True)
class Balance:
    """One account's balance on one rail: ``account`` and ``rail`` are the enum names without
    their prefixes (``ESCROW_HOLDING``, ``STRIPE``); ``cents`` is signed, debit positive."""

    account: str
    rail: str
    currency: str
    cents: int


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
        account = Account.Name(line.account).removeprefix("ACCOUNT_")
        rail = Rail.Name(line.rail).removeprefix("RAIL_")
        balance_key = f"{BALANCE_PREFIX}{account}/{rail}/{line.currency}"
        self._db[balance_key] = str(int(self._db.get(balance_key) or 0) + line.amount_cents)
