"""The gateway's ledger table: balances kept as posting lines arrive, each line counted once (no
broker: records are applied as the consumer loop would apply them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from connectors.payment_rail import Movement
from connectors.topics import LEDGER_POSTINGS
from kernel.model import Rail as RailName
from schemas.common.v1.types_pb2 import Rail
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import Account, TransactionKind
from state_stores.ledger_table import Balance, LedgerTable, Moved

SERIALIZE = EnvelopeSerializer(LedgerPosting, schema_registry(None))
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


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


def release(escrow_id: str, transfer_id: str, cents: int, at: datetime) -> list[LedgerPosting]:
    """Dr seller paid, Cr holding: the seller was paid by the provider's ``transfer_id``."""
    lines = [
        line(escrow_id, f"release-{escrow_id}", 0, Account.ACCOUNT_SELLER_PAID, cents),
        line(escrow_id, f"release-{escrow_id}", 1, Account.ACCOUNT_ESCROW_HOLDING, -cents),
    ]
    for posting in lines:
        posting.kind = TransactionKind.TRANSACTION_KIND_RELEASE
        posting.provider_object_id = transfer_id
        posting.cause.occurred_at.FromDatetime(at)
    return lines


class TestMoved:
    def test_a_release_is_found_by_its_transfer_with_its_amount(self, table: LedgerTable) -> None:
        for posting in release("esc-a", "trf_1", 2_500_000, NOW):
            arrive(table, posting)

        [moved] = table.moved_by(Movement.TRANSFER, "trf_1")

        assert moved == Moved(
            Movement.TRANSFER, "trf_1", "release-esc-a", "esc-a", RailName.USDC_BASE,
            2_500_000, "USD", NOW,
        )  # fmt: skip
        assert table.moved_by(Movement.TRANSFER, "trf_2") == []

    def test_moved_since_lists_from_that_time_on_oldest_first(self, table: LedgerTable) -> None:
        for escrow_id, minutes in (("esc-b", 2), ("esc-a", 1), ("esc-old", -1)):
            for posting in release(
                escrow_id, f"trf_{escrow_id}", 100, NOW + timedelta(minutes=minutes)
            ):
                arrive(table, posting)

        moved = table.moved_since(NOW)

        assert [m.escrow_id for m in moved] == ["esc-a", "esc-b"]

    def test_lines_that_move_no_provider_money_are_not_listed(self, table: LedgerTable) -> None:
        for posting in take("esc-a", 2_500_000):
            arrive(table, posting)

        assert table.moved_since(NOW - timedelta(days=3650)) == []
