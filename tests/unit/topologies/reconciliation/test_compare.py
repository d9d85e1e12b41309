"""The daily comparison, pure: the provider's objects against the ledger's movements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from connectors.payment_rail import Movement, ProviderObject, Status
from kernel.model import Money, Rail
from state_stores.ledger_table import Moved
from topologies.reconciliation.compare import Kind, compare

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
UNTIL = NOW - timedelta(minutes=15)
USDC = Rail.USDC_BASE


def transfer(object_id: str = "trf_1", cents: int = 2_500_000, **fields: object) -> ProviderObject:
    made = ProviderObject(
        Movement.TRANSFER, object_id, "dep_1", "esc-1", Status.SUCCEEDED, cents, "USD", UNTIL
    )
    return replace(made, **fields)  # type: ignore[arg-type]


def release(object_id: str = "trf_1", cents: int = 2_500_000, **fields: object) -> Moved:
    moved = Moved(
        Movement.TRANSFER, object_id, f"txn-{object_id}", "esc-1", USDC, cents, "USD", UNTIL
    )
    return replace(moved, **fields)  # type: ignore[arg-type]


def kinds(provider: list[ProviderObject], ledger: list[Moved]) -> list[Kind]:
    return [d.kind for d in compare(USDC, provider, ledger, UNTIL)]


class TestMatching:
    def test_the_same_money_on_both_sides_is_no_discrepancy(self) -> None:
        assert kinds([transfer()], [release()]) == []

    def test_a_settled_transfer_the_ledger_lacks_is_missing_in_the_ledger(self) -> None:
        [found] = compare(USDC, [transfer()], [], UNTIL)

        assert (found.kind, found.provider_object_id, found.escrow_id) == (
            Kind.MISSING_IN_LEDGER,
            "trf_1",
            "esc-1",
        )
        assert (found.provider_amount, found.ledger_amount) == (Money(2_500_000, "USD"), None)

    def test_a_release_the_provider_has_not_settled_is_missing_at_the_provider(self) -> None:
        assert kinds([], [release()]) == [Kind.MISSING_AT_PROVIDER]
        assert kinds([transfer(status=Status.FAILED)], [release()]) == [Kind.MISSING_AT_PROVIDER]
        assert kinds([transfer(status=Status.PENDING)], []) == []

    def test_amount_and_currency_differences_are_told_apart(self) -> None:
        assert kinds([transfer(cents=1)], [release()]) == [Kind.AMOUNT_MISMATCH]
        assert kinds([transfer(currency="EUR")], [release()]) == [Kind.CURRENCY_MISMATCH]

    def test_one_payout_in_two_ledger_transactions_is_a_duplicate(self) -> None:
        twice = [release(), release(transaction_id="txn-again")]

        [found] = compare(USDC, [transfer()], twice, UNTIL)

        assert found.kind is Kind.DUPLICATE
        assert found.ledger_transaction_ids == ("txn-again", "txn-trf_1")

    def test_two_transfers_for_one_escrow_are_a_duplicate(self) -> None:
        provider = [transfer("trf_1"), transfer("trf_2")]

        found = kinds(provider, [release("trf_1"), release("trf_2")])

        assert found == [Kind.DUPLICATE]

    def test_the_same_transaction_given_twice_counts_once(self) -> None:
        assert kinds([transfer()], [release(), release()]) == []

    def test_what_the_provider_made_after_until_may_still_be_on_its_way(self) -> None:
        assert kinds([transfer(created=UNTIL + timedelta(seconds=1))], []) == []

    def test_payments_and_returns_match_by_the_provider_payment(self) -> None:
        returned = ProviderObject(
            Movement.RETURN, "ret_9", "dep_1", "esc-1", Status.SUCCEEDED, 100, "USD", UNTIL
        )
        booked = release("dep_1", 100, movement=Movement.RETURN)

        assert kinds([returned], [booked]) == []


class TestIds:
    def test_the_same_mismatch_found_again_has_the_same_id(self) -> None:
        first = compare(USDC, [transfer()], [], UNTIL)
        again = compare(USDC, [transfer()], [], NOW)

        assert [d.discrepancy_id for d in first] == [d.discrepancy_id for d in again]

    def test_different_mismatches_have_different_ids(self) -> None:
        found = compare(USDC, [transfer("trf_1"), transfer("trf_2", escrow_id="esc-2")], [], UNTIL)

        assert len({d.discrepancy_id for d in found}) == 2


amounts = st.integers(min_value=1, max_value=10**9)


@given(st.lists(amounts, min_size=1, max_size=8, unique=True))
def test_the_ledger_of_exactly_what_the_provider_settled_agrees(cents: list[int]) -> None:
    provider = [transfer(f"trf_{i}", c, escrow_id=f"esc-{i}") for i, c in enumerate(cents)]
    ledger = [release(f"trf_{i}", c, escrow_id=f"esc-{i}") for i, c in enumerate(cents)]

    assert compare(USDC, provider, ledger, UNTIL) == []


@given(st.lists(amounts, min_size=1, max_size=8), st.data())
def test_every_payout_one_side_lacks_is_reported_once(
    cents: list[int], data: st.DataObject
) -> None:
    on_provider = data.draw(st.lists(st.booleans(), min_size=len(cents), max_size=len(cents)))
    provider = [
        transfer(f"trf_{i}", c, escrow_id=f"esc-{i}")
        for i, (c, there) in enumerate(zip(cents, on_provider, strict=True))
        if there
    ]
    ledger = [
        release(f"trf_{i}", c, escrow_id=f"esc-{i}")
        for i, (c, there) in enumerate(zip(cents, on_provider, strict=True))
        if not there
    ]

    found = compare(USDC, provider, ledger, UNTIL)

    assert sorted(d.provider_object_id for d in found) == sorted(
        f"trf_{i}" for i in range(len(cents))
    )
    assert {d.kind for d in found} <= {Kind.MISSING_IN_LEDGER, Kind.MISSING_AT_PROVIDER}
