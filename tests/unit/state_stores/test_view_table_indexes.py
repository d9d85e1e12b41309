"""The view table's review and waiting indexes, kept as views arrive (no broker: records are
applied as the consumer loop would apply them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from connectors.topics import ESCROW_VIEWS
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView, ReviewStatus
from state_stores.view_table import ViewTable, Waiting

SERIALIZE = EnvelopeSerializer(EscrowView, schema_registry(None))


@pytest.fixture
def table(tmp_path: Path) -> Iterator[ViewTable]:
    # Never started, so no broker is needed; librdkafka's failing connects stay quiet.
    table = ViewTable("127.0.0.1:1", tmp_path / "views", consumer_config={"log_level": 0})
    yield table
    table.stop()


def arrive(table: ViewTable, view: EscrowView) -> None:
    table._apply(view.escrow_id.encode(), SERIALIZE(view, value_context(ESCROW_VIEWS)))


def view(escrow_id: str, review: ReviewStatus.ValueType, day: int) -> EscrowView:
    shown = EscrowView(escrow_id=escrow_id)
    shown.review.status = review
    shown.review.held_at.FromDatetime(datetime(2026, 11, day, tzinfo=UTC))
    return shown


PENDING, APPROVED = ReviewStatus.REVIEW_STATUS_PENDING, ReviewStatus.REVIEW_STATUS_APPROVED


def test_pending_reviews_come_the_longest_waiting_first(table: ViewTable) -> None:
    for escrow_id, day in (("esc-b", 21), ("esc-c", 22), ("esc-a", 20)):
        arrive(table, view(escrow_id, PENDING, day))

    assert [v.escrow_id for v in table.pending_reviews(10)] == ["esc-a", "esc-b", "esc-c"]
    assert [v.escrow_id for v in table.pending_reviews(2)] == ["esc-a", "esc-b"]


def test_a_decided_review_leaves_the_queue(table: ViewTable) -> None:
    arrive(table, view("esc-a", PENDING, 20))
    arrive(table, view("esc-b", PENDING, 21))

    arrive(table, view("esc-a", APPROVED, 20))

    assert [v.escrow_id for v in table.pending_reviews(10)] == ["esc-b"]
    assert table.get("esc-a") is not None


def test_a_tombstone_leaves_no_review_behind(table: ViewTable) -> None:
    arrive(table, view("esc-a", PENDING, 20))

    table._apply(b"esc-a", None)

    assert table.pending_reviews(10) == []
    assert [k for k in table._db.keys() if str(k).startswith("review/")] == []


def waiting(escrow_id: str, status: EscrowStatus.ValueType, day: int) -> EscrowView:
    """An escrow created on ``day`` with a PaymentIntent, in ``status``."""
    shown = EscrowView(escrow_id=escrow_id, status=status)
    shown.payment.provider_payment_id = f"pi_{escrow_id}"
    shown.created_at.FromDatetime(datetime(2026, 11, day, tzinfo=UTC))
    return shown


def submitted(escrow_id: str, day: int) -> EscrowView:
    """A delivered escrow whose transfer was submitted on ``day``."""
    shown = waiting(escrow_id, EscrowStatus.ESCROW_STATUS_DELIVERED, 1)
    shown.payout_submitted_id = f"trf_{escrow_id}"
    entry = shown.history.add(event_type="EscrowTransferSubmitted")
    entry.occurred_at.FromDatetime(datetime(2026, 11, day, tzinfo=UTC))
    return shown


AWAIT_FUNDS, FUNDS_HELD = (
    EscrowStatus.ESCROW_STATUS_AWAIT_FUNDS,
    EscrowStatus.ESCROW_STATUS_FUNDS_HELD,
)


class TestWaiting:
    def test_unfunded_escrows_come_the_longest_waiting_first_up_to_a_time(
        self, table: ViewTable
    ) -> None:
        for escrow_id, day in (("esc-b", 11), ("esc-c", 12), ("esc-a", 10)):
            arrive(table, waiting(escrow_id, AWAIT_FUNDS, day))

        overdue = table.waiting(Waiting.FUNDING, EARLIER, datetime(2026, 11, 12, tzinfo=UTC))
        recent = table.waiting(Waiting.FUNDING, datetime(2026, 11, 11, tzinfo=UTC), LATER)

        assert [v.escrow_id for v in overdue] == ["esc-a", "esc-b"]
        assert [v.escrow_id for v in recent] == ["esc-b", "esc-c"]

    def test_a_funded_escrow_waits_no_more(self, table: ViewTable) -> None:
        arrive(table, waiting("esc-a", AWAIT_FUNDS, 10))

        arrive(table, waiting("esc-a", FUNDS_HELD, 10))

        assert list(table.waiting(Waiting.FUNDING, EARLIER, LATER)) == []

    def test_a_payout_waits_from_its_submission_until_confirmed(self, table: ViewTable) -> None:
        arrive(table, submitted("esc-a", 12))
        arrive(table, submitted("esc-b", 11))
        confirmed = submitted("esc-b", 11)
        confirmed.payout_submitted_id = ""

        before = [v.escrow_id for v in table.waiting(Waiting.PAYOUT, EARLIER, LATER)]
        arrive(table, confirmed)

        assert before == ["esc-b", "esc-a"]
        assert [v.escrow_id for v in table.waiting(Waiting.PAYOUT, EARLIER, LATER)] == ["esc-a"]
        assert list(table.waiting(Waiting.FUNDING, EARLIER, LATER)) == []


EARLIER, LATER = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
