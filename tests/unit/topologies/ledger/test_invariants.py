"""The ledger's invariants catch a hand-made violation of each kind, once, with stable ids."""

from __future__ import annotations

from dataclasses import replace

from kernel.model import EscrowStatus, Rail
from tests.builders import AMOUNT, NOW, PAYMENT_ID
from tests.unit.topologies.ledger.support import (
    ESCROW_ID,
    STRAY_ID,
    created,
    delivered,
    feed,
    funds_held,
    held_for_review,
    paid,
    refunded,
    released,
    return_asked,
)
from topologies.ledger.invariants import (
    HOLD,
    Finding,
    HoldingMismatch,
    NegativeBalance,
    ResolvedTwice,
    UnbalancedTransaction,
    check,
)
from topologies.ledger.model import Account, Balance, Cause, Kind, Ledger, Posting, Transaction
from topologies.ledger.postings import Event

A = AMOUNT.amount_cents
CAUSE = Cause("evt-1", "EscrowReleased", NOW)


def findings(events: list[Event]) -> list[Finding]:
    return [v.finding for v in feed(events).violations]


def test_a_sound_life_breaks_nothing() -> None:
    fed = feed([created(), paid(), funds_held(), delivered(), released()])

    assert fed.violations == []


class TestTransactionBalanced:
    def test_a_transaction_whose_postings_do_not_sum_to_zero_is_reported(self) -> None:
        lopsided = Transaction(
            "tx-1",
            Kind.RELEASE,
            ESCROW_ID,
            CAUSE,
            (
                Posting(Account.SELLER_PAID, Rail.STRIPE, A, "USD"),
                Posting(Account.ESCROW_HOLDING, Rail.STRIPE, -A + 1, "USD"),
            ),
        )
        ledger = Ledger(ESCROW_ID)

        [violation] = check(ledger, ledger, [lopsided], CAUSE)

        assert violation.finding == UnbalancedTransaction("tx-1", "USD", 1)
        assert violation.invariant == "transaction_balanced"

    def test_sums_are_per_currency(self) -> None:
        mixed = Transaction(
            "tx-1",
            Kind.ARRIVAL,
            ESCROW_ID,
            CAUSE,
            (
                Posting(Account.FUNDING_IN_TRANSIT, Rail.STRIPE, A, "USD"),
                Posting(Account.BUYER_FUNDING, Rail.STRIPE, -A, "EUR"),
            ),
        )
        ledger = Ledger(ESCROW_ID)

        found = [v.finding for v in check(ledger, ledger, [mixed], CAUSE)]

        assert found == [
            UnbalancedTransaction("tx-1", "USD", A),
            UnbalancedTransaction("tx-1", "EUR", -A),
        ]


class TestHoldingMatchesStatus:
    def test_delivered_without_the_funds_held_is_reported(self) -> None:
        assert findings([created(), paid(), delivered()]) == [
            HoldingMismatch(EscrowStatus.DELIVERED, Rail.STRIPE, "USD", A, 0)
        ]

    def test_funds_held_for_another_amount_are_reported(self) -> None:
        half = replace(AMOUNT, amount_cents=A // 2)

        assert findings([created(), paid(amount=half), funds_held(amount=half)]) == [
            HoldingMismatch(EscrowStatus.FUNDS_HELD, Rail.STRIPE, "USD", A, A // 2)
        ]

    def test_a_status_change_alone_is_checked(self) -> None:
        before = Ledger(ESCROW_ID, EscrowStatus.AWAIT_FUNDS, AMOUNT, Rail.STRIPE)
        after = replace(before, status=EscrowStatus.FUNDS_HELD)

        [violation] = check(before, after, [], CAUSE)

        assert violation.finding == HoldingMismatch(
            EscrowStatus.FUNDS_HELD, Rail.STRIPE, "USD", A, 0
        )
        assert violation.invariant == "holding_matches_status"


class TestResolvedAtMostOnce:
    def test_a_hold_released_and_then_refunded_is_reported(self) -> None:
        found = findings([created(), paid(), funds_held(), released(), refunded()])

        assert ResolvedTwice(HOLD, 2) in found

    def test_a_payment_taken_twice_is_reported(self) -> None:
        found = findings([created(), paid(), funds_held(), funds_held()])

        assert ResolvedTwice(PAYMENT_ID, 2) in found

    def test_a_payment_sent_back_twice_is_reported(self) -> None:
        """What ``decide`` does today when a payment it cannot take is reported twice under two
        event ids: each report is returned."""
        found = findings([created(), paid(STRAY_ID), return_asked(), return_asked()])

        assert ResolvedTwice(STRAY_ID, 2) in found
        assert NegativeBalance(Account.FUNDING_IN_TRANSIT, Rail.STRIPE, "USD", -A) in found

    def test_a_payment_sent_back_and_then_taken_is_reported(self) -> None:
        deposit: list[Event] = [created(), held_for_review(PAYMENT_ID), return_asked(PAYMENT_ID)]
        found = findings([*deposit, funds_held()])

        assert ResolvedTwice(PAYMENT_ID, 2) in found


class TestNoNegativeBalance:
    def test_a_release_of_money_never_held_is_reported(self) -> None:
        found = findings([created(), released()])

        assert NegativeBalance(Account.ESCROW_HOLDING, Rail.STRIPE, "USD", -A) in found

    def test_a_credit_natural_account_in_debit_is_reported(self) -> None:
        backwards = Transaction(
            "tx-1",
            Kind.ARRIVAL,
            ESCROW_ID,
            CAUSE,
            (
                Posting(Account.BUYER_FUNDING, Rail.STRIPE, A, "USD"),
                Posting(Account.FUNDING_IN_TRANSIT, Rail.STRIPE, -A, "USD"),
            ),
        )
        after = Ledger(
            ESCROW_ID,
            balances=(
                Balance(Account.BUYER_FUNDING, Rail.STRIPE, "USD", A),
                Balance(Account.FUNDING_IN_TRANSIT, Rail.STRIPE, "USD", -A),
            ),
        )

        found = [v.finding for v in check(Ledger(ESCROW_ID), after, [backwards], CAUSE)]

        assert found == [
            NegativeBalance(Account.BUYER_FUNDING, Rail.STRIPE, "USD", -A),
            NegativeBalance(Account.FUNDING_IN_TRANSIT, Rail.STRIPE, "USD", -A),
        ]
        assert {v.invariant for v in check(Ledger(ESCROW_ID), after, [backwards], CAUSE)} == {
            "no_negative_balance"
        }


def test_a_second_release_breaks_three_invariants_and_says_so() -> None:
    fed = feed([created(), paid(), funds_held(), released(), released()])

    assert {v.invariant for v in fed.violations} == {
        "holding_matches_status",
        "resolved_at_most_once",
        "no_negative_balance",
    }
    assert all(v.cause.event_type == "EscrowReleased" for v in fed.violations)
    assert all(v.detail for v in fed.violations)


def test_a_broken_invariant_is_reported_once_not_by_every_later_event() -> None:
    later = paid("pi_later")  # posts, but not to the broken accounts
    fed = feed([created(), paid(), funds_held(), released(), released(), later])

    assert len(fed.violations) == 3


def test_violation_ids_are_stable_under_reprocessing() -> None:
    events: list[Event] = [created(), paid(), funds_held(), released(), released()]

    first, again = feed(events), feed(events)

    assert [v.violation_id for v in first.violations] == [v.violation_id for v in again.violations]
    assert len({v.violation_id for v in first.violations}) == 3
