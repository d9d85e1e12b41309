"""The posting rules of ``topologies/ledger/postings.py``, event by event."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kernel.ids import derive_id
from kernel.messages import (
    EscrowAwaitFunds,
    EscrowRefundFailed,
    EscrowRefundRequested,
    EscrowTransferFailed,
    EscrowTransferRequested,
    EscrowTransferSubmitted,
    PaymentFailed,
)
from kernel.model import Actor, EscrowStatus, Money, Rail, Role
from tests.builders import AMOUNT, PAYMENT_ID, payment_meta
from tests.unit.topologies.ledger.support import (
    DEPOSIT_ID,
    ESCROW_ID,
    STRAY_ID,
    Fed,
    chargeback_closed,
    chargeback_opened,
    created,
    delivered,
    deposit_returned,
    disputed,
    escrow_meta,
    feed,
    funds_held,
    held_for_review,
    paid,
    provider_returned,
    refunded,
    released,
    return_asked,
    transfer_reversed,
)
from topologies.ledger.model import Account, Kind, Posting
from topologies.ledger.postings import Event

A = AMOUNT.amount_cents
USDC_AMOUNT = Money(2_000_000, "USD")
S = Account  # short names keep the expected balances readable


def funded() -> list[Event]:
    return [created(), paid(), funds_held()]


class TestArrival:
    def test_a_payment_arrives_in_transit_from_the_buyers_funding(self) -> None:
        fed = feed([created(), paid()])

        [arrival] = fed.transactions
        assert arrival.kind is Kind.ARRIVAL
        assert arrival.postings == (
            Posting(S.FUNDING_IN_TRANSIT, Rail.STRIPE, A, "USD"),
            Posting(S.BUYER_FUNDING, Rail.STRIPE, -A, "USD"),
        )
        assert arrival.provider_payment_id == PAYMENT_ID
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.FUNDING_IN_TRANSIT: A}

    def test_a_deposit_held_for_review_has_arrived(self) -> None:
        fed = feed([created(), held_for_review()])

        assert fed.kinds() == ["ARRIVAL"]
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.FUNDING_IN_TRANSIT: A}

    def test_a_payment_reported_again_arrives_once(self) -> None:
        fed = feed([created(), held_for_review(PAYMENT_ID), paid(), paid()])

        assert fed.kinds() == ["ARRIVAL"]

    def test_the_same_event_twice_posts_once(self) -> None:
        event = paid()

        assert feed([created(), event, event]).kinds() == ["ARRIVAL"]

    def test_the_arrival_id_derives_from_the_payment_not_the_report(self) -> None:
        first, second = feed([created(), paid()]), feed([created(), paid()])

        assert first.transactions[0].transaction_id == second.transactions[0].transaction_id
        assert first.transactions[0].transaction_id == derive_id(
            ESCROW_ID, "LedgerARRIVAL", PAYMENT_ID
        )

    def test_postings_are_on_the_escrows_rail(self) -> None:
        fed = feed([created(rail=Rail.USDC_BASE), paid()])

        assert {p.rail for p in fed.transactions[0].postings} == {Rail.USDC_BASE}


class TestTake:
    def test_funds_held_move_from_transit_to_holding(self) -> None:
        fed = feed(funded())

        assert fed.kinds() == ["ARRIVAL", "TAKE"]
        assert fed.transactions[1].postings == (
            Posting(S.ESCROW_HOLDING, Rail.STRIPE, A, "USD"),
            Posting(S.FUNDING_IN_TRANSIT, Rail.STRIPE, -A, "USD"),
        )
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.ESCROW_HOLDING: A}

    def test_funds_held_before_their_payment_is_read_post_its_arrival_first(self) -> None:
        payment = paid()
        in_order = feed([created(), payment, take := funds_held()])
        reordered = feed([created(), take, payment])

        assert reordered.kinds() == ["ARRIVAL", "TAKE"]
        assert [t.transaction_id for t in reordered.transactions] == [
            t.transaction_id for t in in_order.transactions
        ]
        assert reordered.balances() == in_order.balances()

    def test_a_copy_of_an_earlier_event_sets_no_status(self) -> None:
        awaiting = EscrowAwaitFunds(escrow_meta(), AMOUNT, Rail.STRIPE)
        fed = feed([created(), awaiting, paid(), funds_held(), awaiting])

        assert fed.ledger.status is EscrowStatus.FUNDS_HELD
        assert fed.violations == []

    def test_the_ledger_follows_the_escrows_status_and_amount(self) -> None:
        fed = feed([*funded(), delivered()])

        assert (fed.ledger.status, fed.ledger.amount, fed.ledger.rail) == (
            EscrowStatus.DELIVERED,
            AMOUNT,
            Rail.STRIPE,
        )


class TestPayouts:
    def test_a_release_pays_the_seller_from_holding(self) -> None:
        fed = feed([*funded(), released()])

        assert fed.kinds()[-1] == "RELEASE"
        assert fed.transactions[-1].postings == (
            Posting(S.SELLER_PAID, Rail.STRIPE, A, "USD"),
            Posting(S.ESCROW_HOLDING, Rail.STRIPE, -A, "USD"),
        )
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.SELLER_PAID: A}

    def test_a_refund_pays_the_buyer_back_from_holding(self) -> None:
        fed = feed([*funded(), refunded()])

        assert fed.kinds()[-1] == "REFUND"
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.BUYER_REFUNDED: A}

    def test_a_payout_names_the_provider_object_reconciliation_matches(self) -> None:
        release = feed([*funded(), released()]).transactions[-1]
        refund = feed([*funded(), refunded()]).transactions[-1]

        assert (release.provider_object_id, refund.provider_object_id) == ("tr_1", "re_1")

    @pytest.mark.parametrize(
        "event",
        [
            EscrowTransferRequested(escrow_meta(), "cmd-1", AMOUNT, Actor("b", Role.USER)),
            EscrowTransferSubmitted(escrow_meta(), "cmd-1", "tr_1"),
            EscrowTransferFailed(escrow_meta(), "cmd-1", "bank_down", 1),
            EscrowRefundRequested(escrow_meta(), "cmd-1", AMOUNT, Actor("a", Role.ADMIN), "r"),
            EscrowRefundFailed(escrow_meta(), "cmd-1", "bank_down", 1),
        ],
        ids=lambda e: type(e).__name__,
    )
    def test_a_payout_under_way_or_failed_leaves_the_money_held(self, event: Event) -> None:
        fed = feed([*funded(), event])

        assert fed.kinds() == ["ARRIVAL", "TAKE"]
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.ESCROW_HOLDING: A}


class TestChargebacks:
    def test_a_chargeback_on_held_funds_takes_them_from_the_hold(self) -> None:
        fed = feed([*funded(), chargeback_opened(), disputed()])

        assert fed.kinds()[-1] == "CHARGEBACK_OPENED"
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.CHARGEBACKS: A}
        assert fed.violations == []

    def test_a_won_chargeback_gives_the_hold_its_money_back(self) -> None:
        fed = feed([*funded(), chargeback_opened(), disputed(), chargeback_closed("won")])

        assert fed.kinds()[-1] == "CHARGEBACK_WON"
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.ESCROW_HOLDING: A}

    def test_a_lost_chargeback_is_gone_for_good(self) -> None:
        fed = feed([*funded(), chargeback_opened(), disputed(), chargeback_closed("lost")])

        assert fed.kinds()[-1] == "CHARGEBACK_LOST"
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.CHARGEBACKS_LOST: A}
        assert fed.violations == []

    def test_paying_out_a_hold_under_chargeback_puts_in_the_platforms_funds(self) -> None:
        fed = feed([*funded(), chargeback_opened(), disputed(), released()])

        assert fed.transactions[-1].postings == (
            Posting(S.SELLER_PAID, Rail.STRIPE, A, "USD"),
            Posting(S.PLATFORM_FUNDS, Rail.STRIPE, -A, "USD"),
        )
        assert fed.violations == []

    def test_a_win_after_the_hold_was_paid_out_goes_back_to_the_platform(self) -> None:
        events = [*funded(), chargeback_opened(), disputed(), released(), chargeback_closed("won")]

        fed = feed(events)

        assert fed.balances() == {S.BUYER_FUNDING: -A, S.SELLER_PAID: A}
        assert fed.violations == []

    def test_a_chargeback_after_the_release_is_the_platforms_loss(self) -> None:
        fed = feed([*funded(), released(), chargeback_opened(), chargeback_closed("lost")])

        assert fed.balances() == {
            S.BUYER_FUNDING: -A,
            S.SELLER_PAID: A,
            S.CHARGEBACKS_LOST: A,
            S.PLATFORM_FUNDS: -A,
        }
        assert fed.violations == []

    def test_a_chargeback_opens_and_closes_once_however_often_reported(self) -> None:
        events = [*funded(), chargeback_opened(), chargeback_opened()]
        events += [chargeback_closed("won"), chargeback_closed("lost")]

        fed = feed(events)

        assert fed.kinds()[2:] == ["CHARGEBACK_OPENED", "CHARGEBACK_WON"]

    def test_a_closing_reported_before_the_opening_is_posted_after_it(self) -> None:
        fed = feed([*funded(), chargeback_closed("lost"), chargeback_opened()])

        assert fed.kinds()[2:] == ["CHARGEBACK_OPENED", "CHARGEBACK_LOST"]
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.CHARGEBACKS_LOST: A}

    def test_transaction_ids_derive_from_the_dispute(self) -> None:
        once = feed([*funded(), chargeback_opened(), chargeback_closed("won")])
        again = feed([*funded(), chargeback_opened(), chargeback_closed("won")])

        assert [t.transaction_id for t in once.transactions[2:]] == [
            t.transaction_id for t in again.transactions[2:]
        ]


class TestTransferReversals:
    def test_a_reversal_takes_the_money_back_from_the_seller(self) -> None:
        fed = feed([*funded(), released(), transfer_reversed(A // 2)])

        assert fed.kinds()[-1] == "TRANSFER_REVERSED"
        assert fed.transactions[-1].provider_object_id == "tr_1"
        assert fed.balances() == {
            S.BUYER_FUNDING: -A,
            S.SELLER_PAID: A - A // 2,
            S.TRANSFERS_REVERSED: A // 2,
        }

    def test_the_running_total_posts_each_increase_once(self) -> None:
        events = [*funded(), released(), transfer_reversed(100), transfer_reversed(100)]
        events += [transfer_reversed(A)]

        fed = feed(events)

        assert [t.postings[0].amount_cents for t in fed.transactions[3:]] == [100, A - 100]
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.TRANSFERS_REVERSED: A}

    def test_a_transfer_this_ledger_did_not_release_posts_nothing(self) -> None:
        fed = feed([*funded(), released(), transfer_reversed(A, "tr_other")])

        assert fed.kinds()[-1] == "RELEASE"


class TestReturns:
    def stray(self) -> list[Event]:
        """A funded escrow, and a second payment it cannot take, asked back."""
        return [*funded(), paid(STRAY_ID), return_asked()]

    def test_money_the_escrow_cannot_take_is_pending_return(self) -> None:
        fed = feed(self.stray())

        assert fed.kinds()[-1] == "RETURN_REQUESTED"
        assert fed.transactions[-1].postings == (
            Posting(S.RETURNS_PENDING, Rail.STRIPE, A, "USD"),
            Posting(S.FUNDING_IN_TRANSIT, Rail.STRIPE, -A, "USD"),
        )
        assert fed.balances() == {
            S.BUYER_FUNDING: -2 * A,
            S.ESCROW_HOLDING: A,
            S.RETURNS_PENDING: A,
        }

    def test_the_provider_sending_it_back_settles_the_return(self) -> None:
        fed = feed([*self.stray(), provider_returned()])

        assert fed.kinds()[-1] == "RETURN_SETTLED"
        assert fed.balances() == {S.BUYER_FUNDING: -2 * A, S.ESCROW_HOLDING: A, S.RETURNED: A}

    def test_a_failed_return_leaves_the_money_in_transit(self) -> None:
        fed = feed([*self.stray(), provider_returned(failure_code="charge_disputed")])

        assert fed.kinds()[-1] == "RETURN_FAILED"
        assert fed.balances() == {
            S.BUYER_FUNDING: -2 * A,
            S.ESCROW_HOLDING: A,
            S.FUNDING_IN_TRANSIT: A,
        }

    def test_a_return_reported_settled_twice_settles_once(self) -> None:
        fed = feed([*self.stray(), provider_returned(), provider_returned()])

        assert fed.kinds().count("RETURN_SETTLED") == 1

    def test_a_return_failing_after_it_settled_is_reversed(self) -> None:
        fed = feed([*self.stray(), provider_returned(), provider_returned(failure_code="failed")])

        assert fed.transactions[-1].postings == (
            Posting(S.FUNDING_IN_TRANSIT, Rail.STRIPE, A, "USD"),
            Posting(S.RETURNED, Rail.STRIPE, -A, "USD"),
        )
        assert fed.balances()[S.FUNDING_IN_TRANSIT] == A

    def test_a_return_settling_after_it_failed_leaves_transit(self) -> None:
        fed = feed([*self.stray(), provider_returned(failure_code="failed"), provider_returned()])

        assert fed.kinds()[-2:] == ["RETURN_FAILED", "RETURN_SETTLED"]
        assert fed.balances() == {S.BUYER_FUNDING: -2 * A, S.ESCROW_HOLDING: A, S.RETURNED: A}

    def test_a_report_before_the_return_was_asked_waits_for_it(self) -> None:
        before = [*funded(), paid(STRAY_ID)]
        asked, settled = return_asked(), provider_returned()
        in_order = feed([*before, asked, settled])

        waiting = feed([*before, settled])
        reordered = feed([asked], waiting.ledger)

        assert waiting.kinds() == ["ARRIVAL", "TAKE", "ARRIVAL"]
        assert reordered.kinds() == ["RETURN_REQUESTED", "RETURN_SETTLED"]
        assert [t.transaction_id for t in waiting.transactions + reordered.transactions] == [
            t.transaction_id for t in in_order.transactions
        ]
        assert reordered.balances() == in_order.balances()
        assert reordered.ledger.parked == ()

    def test_a_return_asked_before_its_payment_is_read_posts_the_arrival(self) -> None:
        fed = feed([created(), return_asked(), paid(STRAY_ID)])

        assert fed.kinds() == ["ARRIVAL", "RETURN_REQUESTED"]
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.RETURNS_PENDING: A}


class TestDepositReturnedAfterScreening:
    def test_it_arrives_and_goes_straight_back_for_the_escrows_amount(self) -> None:
        fed = feed([created(), deposit_returned()])

        assert fed.kinds() == ["ARRIVAL", "RETURN_REQUESTED", "RETURN_SETTLED"]
        assert {t.provider_payment_id for t in fed.transactions} == {DEPOSIT_ID}
        assert fed.balances() == {S.BUYER_FUNDING: -A, S.RETURNED: A}

    def test_the_custodians_confirmation_later_posts_nothing(self) -> None:
        fed = feed([created(), deposit_returned(), provider_returned(DEPOSIT_ID)])

        assert fed.kinds() == ["ARRIVAL", "RETURN_REQUESTED", "RETURN_SETTLED"]

    def test_a_declined_payment_moves_no_money(self) -> None:
        declined = PaymentFailed(payment_meta(ESCROW_ID), PAYMENT_ID, "card_declined")

        assert feed([created(), declined]).transactions == []

    def test_for_an_escrow_the_ledger_does_not_know_nothing_is_posted(self) -> None:
        assert feed([deposit_returned()]).transactions == []


def every_transaction(fed: Fed) -> None:
    for transaction in fed.transactions:
        assert sum(p.amount_cents for p in transaction.postings) == 0, transaction


@pytest.mark.parametrize(
    "events",
    [
        [*funded(), delivered(), released()],
        [*funded(), refunded()],
        [*funded(), paid(STRAY_ID), return_asked(), provider_returned(), provider_returned("x")],
        [created(), deposit_returned(), provider_returned(DEPOSIT_ID, "failed")],
        [
            created(USDC_AMOUNT, Rail.USDC_BASE),
            held_for_review(amount=USDC_AMOUNT),
            funds_held(DEPOSIT_ID, USDC_AMOUNT),
        ],
    ],
    ids=["released", "refunded", "returned", "deposit-returned", "reviewed"],
)
def test_every_transaction_balances(events: list[Event]) -> None:
    fed = feed(events)

    assert fed.transactions and fed.violations == []
    every_transaction(fed)
    assert sum(fed.balances().values()) == 0  # the debit accounts hold what was received


def test_reprocessing_posts_the_same_transaction_ids() -> None:
    events: list[Event] = [created(), paid(), funds_held(), released()]

    first, again = feed(events), feed(events)

    assert [t.transaction_id for t in first.transactions] == [
        t.transaction_id for t in again.transactions
    ]
    assert len({t.transaction_id for t in first.transactions}) == 3


def test_an_event_of_another_currency_posts_in_its_currency() -> None:
    euros = Money(1000, "EUR")
    fed = feed([created(), replace(paid(STRAY_ID), amount=euros)])

    assert {p.currency for p in fed.transactions[0].postings} == {"EUR"}
