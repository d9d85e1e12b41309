"""The gateway's ledger table: balances kept as posting lines arrive, each line counted once (no
broker: records are applied as the consumer loop would apply them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from connectors.topics import LEDGER_POSTINGS
from schemas.common.v1.types_pb2 import Rail
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import Account
from state_stores.ledger_table import Balance, LedgerTable

SERIALIZE = EnvelopeSerializer(LedgerPosting, schema_registry(None))


@pytest.fixture
def table(tmp_path: Path) -> Iterator[LedgerTable]:
    # Never started, so no broker is needed; librdkafka's failing connects stay quiet.
    table = LedgerTable("127.0.0.1:1", tmp_path / "ledger", consumer_config={"log_level": 0})
    yield table
    table.stop()


def line(
    escrow_id: str, transaction_id: str, index: int, account: int, cents: int
) -> LedgerPosting:
    return LedgerPosting(
        transaction_id=transaction_id,
        index=index,
        transaction_size=2,
        escrow_id=escrow_id,
        account=account,  # type: ignore[arg-type]
        rail=Rail.RAIL_USDC_BASE,
        amount_cents=cents,
        currency="USD",
    )


def arrive(table: LedgerTable, posting: LedgerPosting) -> None:
    table._apply(posting.escrow_id.encode(), SERIALIZE(posting, value_context(LEDGER_POSTINGS)))


def take(escrow_id: str, cents: int) -> list[LedgerPosting]:
    """Dr holding, Cr in transit."""
    return [
        line(escrow_id, f"take-{escrow_id}", 0, Account.ACCOUNT_ESCROW_HOLDING, cents),
        line(escrow_id, f"take-{escrow_id}", 1, Account.ACCOUNT_FUNDING_IN_TRANSIT, -cents),
    ]


def test_balances_add_up_the_lines_by_account_and_rail(table: LedgerTable) -> None:
    for posting in take("esc-a", 2_500_000) + take("esc-b", 1_000_000):
        arrive(table, posting)

    assert table.balances() == [
        Balance("ESCROW_HOLDING", "USDC_BASE", "USD", 3_500_000),
        Balance("FUNDING_IN_TRANSIT", "USDC_BASE", "USD", -3_500_000),
    ]


def test_a_line_delivered_again_is_counted_once(table: LedgerTable) -> None:
    for posting in take("esc-a", 2_500_000) * 2:
        arrive(table, posting)

    assert sum(b.cents for b in table.balances() if b.account == "ESCROW_HOLDING") == 2_500_000


def test_an_escrows_postings_come_by_transaction_and_line(table: LedgerTable) -> None:
    for posting in take("esc-a", 2_500_000) + take("esc-b", 1_000_000):
        arrive(table, posting)

    assert [(p.escrow_id, p.index) for p in table.postings("esc-a")] == [("esc-a", 0), ("esc-a", 1)]
    assert table.postings("esc-c") == []
