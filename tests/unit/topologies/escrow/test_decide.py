"""The transition table of DESIGN.md §4, row by row, and its refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kernel.ids import derive_id
from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    CancelPayment,
    ChargebackClosed,
    ChargebackOpened,
    CreatePaymentIntent,
    EscrowCancelled,
    EscrowCommandRejected,
    EscrowDelivered,
    EscrowDisputed,
    EscrowFundsHeld,
    EscrowPaymentFailed,
    EscrowPaymentReturned,
    EscrowPaymentUnderReview,
    EscrowRefunded,
    EscrowRefundFailed,
    EscrowRefundRequested,
    EscrowReleased,
    EscrowReviewApproved,
    EscrowTransferFailed,
    EscrowTransferRequested,
    InitiateRefund,
    MarkDelivered,
    PaymentCancelled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentReturned,
    PaymentSucceeded,
    RaiseDispute,
    RefundFailed,
    RefundSubmitted,
    RefundSucceeded,
    RejectReview,
    ReleaseFunds,
    ResolveDispute,
    RetryPayout,
    ReturnPayment,
    TransferFailed,
    TransferReversed,
    TransferSubmitted,
    TransferSucceeded,
    TransferToSeller,
)
from kernel.model import (
    DEFAULT_POLICY,
    MAX_PAYMENT_FAILURES,
    Actor,
    DisputeResolution,
    Escrow,
    EscrowStatus,
    KycTier,
    Money,
    Rail,
    Reason,
)
from tests.builders import (
    ADMIN,
    AMOUNT,
    BUYER,
    NOW,
    PAYMENT_ID,
    SCHEDULER,
    SELLER,
    apply_all,
    command_meta,
    create_escrow,
    escrow_in,
    payment_intent_created,
    payment_meta,
    payment_succeeded,
)
from topologies.escrow.decide import decide
from topologies.escrow.decision import Decision

S = EscrowStatus


def event_types(decision: Decision) -> list[str]:
    return [type(e).__name__ for e in decision.events]


def assert_rejected(decision: Decision, before: Escrow | None, reason: Reason) -> None:
    assert decision.rejection is not None and decision.rejection.reason is reason
    [rejected] = decision.events
    assert isinstance(rejected, EscrowCommandRejected) and rejected.reason == reason.value
    assert decision.payment_commands == ()
    if before is not None:  # nothing changed but the idempotency record
        assert decision.state == replace(before, processed_ids=decision.state.processed_ids)  # type: ignore[union-attr]


class TestCreateEscrow:
    def test_creates_an_escrow_awaiting_funds_and_requests_a_payment_intent(self) -> None:
        command = create_escrow("esc-new")

        decision = decide(None, command, NOW)

        assert event_types(decision) == ["EscrowCreated", "EscrowAwaitFunds"]
        assert [e.meta.version for e in decision.events] == [1, 2]
        assert decision.state is not None and decision.state.status is S.AWAIT_FUNDS
        assert decision.state.version == 2
        [intent] = decision.payment_commands
        assert isinstance(intent, CreatePaymentIntent)
        assert (intent.amount, intent.rail) == (AMOUNT, Rail.STRIPE)

    @pytest.mark.parametrize(
        ("cents", "rail"),
        [(1, Rail.STRIPE), (1_000_000, Rail.STRIPE), (1_000_001, Rail.USDC_BASE)],
    )
    def test_routes_up_to_ten_thousand_dollars_to_stripe_and_above_to_usdc(
        self, cents: int, rail: Rail
    ) -> None:
        decision = decide(None, create_escrow(amount=Money(cents, "USD")), NOW)

        assert decision.state is not None and decision.state.rail is rail

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [
            ({"seller_id": "buyer-1"}, Reason.SAME_PARTIES),
            ({"amount": Money(0, "USD")}, Reason.INVALID_AMOUNT),
            ({"amount": Money(-5, "USD")}, Reason.INVALID_AMOUNT),
            ({"amount": Money(500, "EUR")}, Reason.UNSUPPORTED_CURRENCY),
            ({"buyer_kyc_tier": KycTier.TIER_0}, Reason.KYC_TIER_TOO_LOW),
            ({"seller_kyc_tier": KycTier.UNSPECIFIED}, Reason.KYC_TIER_TOO_LOW),
            ({"seller_stripe_account_id": ""}, Reason.MISSING_PAYOUT_ACCOUNT),
            (
                {"amount": Money(2_000_000, "USD"), "seller_wallet_address": ""},
                Reason.MISSING_PAYOUT_ACCOUNT,
            ),
            ({"actor": BUYER}, Reason.NOT_AUTHORIZED),
        ],
    )
    def test_refuses_an_invalid_escrow(self, fields: dict[str, object], reason: Reason) -> None:
        decision = decide(None, create_escrow(**fields), NOW)  # type: ignore[arg-type]

        assert_rejected(decision, None, reason)
        assert decision.state is None

    def test_refuses_an_escrow_id_that_exists(self) -> None:
        state = escrow_in(S.AWAIT_FUNDS)

        assert_rejected(decide(state, create_escrow(), NOW), state, Reason.ALREADY_EXISTS)

    def test_a_duplicate_create_emits_nothing(self) -> None:
        command = create_escrow()
        state = decide(None, command, NOW).state

        assert decide(state, command, NOW) == Decision(state)


class TestAwaitFunds:
    def test_records_the_payment_intent(self) -> None:
        state = decide(None, create_escrow(), NOW).state

        decision = decide(state, payment_intent_created(), NOW)

        assert event_types(decision) == ["EscrowPaymentIntentRecorded"]
        assert decision.state is not None and decision.state.provider_payment_id == PAYMENT_ID

    def test_payment_succeeded_holds_the_funds(self) -> None:
        decision = decide(escrow_in(S.AWAIT_FUNDS), payment_succeeded(), NOW)

        [held] = decision.events
        assert isinstance(held, EscrowFundsHeld) and held.amount == AMOUNT
        assert decision.state is not None and decision.state.status is S.FUNDS_HELD

    @pytest.mark.parametrize(
        "event",
        [
            payment_succeeded(amount=Money(1, "USD")),
            payment_succeeded(amount=Money(500_000, "EUR")),
            payment_succeeded(payment_id="pi_other"),
        ],
    )
    def test_a_payment_that_does_not_match_goes_back_to_its_sender(
        self, event: PaymentSucceeded
    ) -> None:
        state = escrow_in(S.AWAIT_FUNDS)

        decision = decide(state, event, NOW)

        assert_returned(decision, event)
        assert decision.state is not None and decision.state.status is S.AWAIT_FUNDS

    def test_a_failed_payment_is_counted(self) -> None:
        decision = decide(
            escrow_in(S.AWAIT_FUNDS),
            PaymentFailed(payment_meta(), PAYMENT_ID, "card_declined"),
            NOW,
        )

        [failed] = decision.events
        assert isinstance(failed, EscrowPaymentFailed) and failed.attempts == 1
        assert decision.state is not None and decision.state.status is S.AWAIT_FUNDS

    def test_one_attempt_reported_twice_counts_once(self) -> None:
        state = escrow_in(S.AWAIT_FUNDS)
        first = decide(
            state, PaymentFailed(payment_meta(), PAYMENT_ID, "x", attempt_id="ch_1"), NOW
        )
        again = PaymentFailed(payment_meta(), PAYMENT_ID, "x", recovered_by_reconciliation=True)

        duplicate = decide(first.state, replace(again, attempt_id="ch_1"), NOW)
        second = decide(first.state, replace(again, attempt_id="ch_2"), NOW)

        assert duplicate.events == () and duplicate.state == first.state
        [failed] = second.events
        assert isinstance(failed, EscrowPaymentFailed) and failed.attempts == 2
        assert second.state is not None and second.state.failed_attempt_ids == ("ch_1", "ch_2")

    def test_the_last_allowed_payment_failure_cancels_the_escrow(self) -> None:
        state: Escrow | None = escrow_in(S.AWAIT_FUNDS)
        for _ in range(MAX_PAYMENT_FAILURES):
            decision = decide(
                state, PaymentFailed(payment_meta(), PAYMENT_ID, "card_declined"), NOW
            )
            state = decision.state

        assert event_types(decision) == ["EscrowPaymentFailed", "EscrowCancelled"]
        assert state is not None and state.status is S.CANCELLED

    @pytest.mark.parametrize("actor", [BUYER, SELLER, ADMIN])
    def test_a_party_or_admin_cancels(self, actor: Actor) -> None:
        decision = decide(
            escrow_in(S.AWAIT_FUNDS), CancelEscrow(command_meta(actor=actor), "x"), NOW
        )

        assert isinstance(decision.events[0], EscrowCancelled)
        assert decision.state is not None and decision.state.status is S.CANCELLED

    def test_the_system_cancels_after_72_hours(self) -> None:
        state = escrow_in(S.AWAIT_FUNDS)
        command = CancelEscrow(command_meta(actor=SCHEDULER), "funding timed out")

        assert_rejected(
            decide(state, command, NOW + DEFAULT_POLICY.funding_timeout - timedelta(seconds=1)),
            state,
            Reason.TIMEOUT_NOT_REACHED,
        )
        decision = decide(state, command, NOW + DEFAULT_POLICY.funding_timeout)
        assert decision.state is not None and decision.state.status is S.CANCELLED


def held_for_review(payment_id: str = PAYMENT_ID, amount: Money = AMOUNT) -> PaymentHeldForReview:
    return PaymentHeldForReview(payment_meta(), payment_id, amount, "0xabc", 65)


def under_review() -> Escrow:
    return apply_all([held_for_review()], escrow_in(S.AWAIT_FUNDS))


class TestManualReview:
    def test_a_deposit_held_for_review_waits_in_await_funds(self) -> None:
        decision = decide(escrow_in(S.AWAIT_FUNDS), held_for_review(), NOW)

        [waiting] = decision.events
        assert isinstance(waiting, EscrowPaymentUnderReview) and waiting.risk_score == 65
        assert decision.state is not None and decision.state.status is S.AWAIT_FUNDS
        assert decision.state.payment_under_review

    def test_the_same_deposit_reported_again_changes_nothing(self) -> None:
        state = under_review()

        assert decide(state, held_for_review(), NOW) == Decision(state)

    def test_a_deposit_the_escrow_cannot_take_goes_back_without_review(self) -> None:
        decision = decide(escrow_in(S.AWAIT_FUNDS), held_for_review(amount=Money(1, "USD")), NOW)

        assert event_types(decision) == ["EscrowPaymentReturned"]
        assert [type(c) for c in decision.payment_commands] == [ReturnPayment]

    def test_an_admin_approving_funds_the_escrow_with_the_audit_record(self) -> None:
        decision = decide(under_review(), ApproveReview(command_meta(actor=ADMIN), "ok"), NOW)

        assert event_types(decision) == ["EscrowReviewApproved", "EscrowFundsHeld"]
        assert isinstance(decision.events[0], EscrowReviewApproved)
        assert decision.events[0].reviewed_by == ADMIN
        assert decision.state is not None and decision.state.status is S.FUNDS_HELD
        assert not decision.state.payment_under_review

    def test_an_admin_rejecting_returns_the_deposit_and_counts_a_payment_failure(self) -> None:
        decision = decide(under_review(), RejectReview(command_meta(actor=ADMIN), "no"), NOW)

        assert event_types(decision) == [
            "EscrowReviewRejected",
            "EscrowPaymentReturned",
            "EscrowPaymentFailed",
        ]
        failed = decision.events[2]
        assert isinstance(failed, EscrowPaymentFailed)
        assert failed.failure_code == "DEPOSIT_RETURNED_REVIEW"
        [command] = decision.payment_commands
        assert isinstance(command, ReturnPayment) and command.provider_payment_id == PAYMENT_ID
        assert decision.state is not None and decision.state.status is S.AWAIT_FUNDS

    @pytest.mark.parametrize("command", [ApproveReview, RejectReview])
    def test_nothing_to_review_is_refused(self, command: type[ApproveReview]) -> None:
        state = escrow_in(S.AWAIT_FUNDS)

        decision = decide(state, command(command_meta(actor=ADMIN)), NOW)

        assert_rejected(decision, state, Reason.NO_REVIEW_PENDING)

    @pytest.mark.parametrize("actor", [BUYER, SELLER])
    def test_only_an_admin_reviews(self, actor: Actor) -> None:
        state = under_review()

        decision = decide(state, ApproveReview(command_meta(actor=actor)), NOW)

        assert_rejected(decision, state, Reason.NOT_ADMIN)

    def test_cancelling_during_review_sends_the_deposit_back(self) -> None:
        decision = decide(under_review(), CancelEscrow(command_meta(actor=BUYER), "no"), NOW)

        assert event_types(decision) == ["EscrowPaymentReturned", "EscrowCancelled"]
        assert [type(c) for c in decision.payment_commands] == [ReturnPayment, CancelPayment]


class TestFundsHeld:
    def test_the_seller_marks_delivered(self) -> None:
        decision = decide(escrow_in(S.FUNDS_HELD), MarkDelivered(command_meta(actor=SELLER)), NOW)

        [delivered] = decision.events
        assert isinstance(delivered, EscrowDelivered) and delivered.delivered_by == SELLER
        assert decision.state is not None and decision.state.status is S.DELIVERED
        assert decision.state.delivered_at == NOW

    @pytest.mark.parametrize("actor", [BUYER, SELLER])
    def test_a_party_raises_a_dispute(self, actor: Actor) -> None:
        decision = decide(
            escrow_in(S.FUNDS_HELD), RaiseDispute(command_meta(actor=actor), "late"), NOW
        )

        assert isinstance(decision.events[0], EscrowDisputed)
        assert decision.state is not None and decision.state.status is S.DISPUTED

    @pytest.mark.parametrize("actor", [SELLER, ADMIN])
    def test_cancelling_a_funded_escrow_refunds_the_buyer(self, actor: Actor) -> None:
        decision = decide(
            escrow_in(S.FUNDS_HELD), CancelEscrow(command_meta(actor=actor), "out of stock"), NOW
        )

        [requested] = decision.events
        [refund] = decision.payment_commands
        assert isinstance(requested, EscrowRefundRequested) and isinstance(refund, InitiateRefund)
        assert requested.payment_command_id == refund.meta.command_id
        assert (refund.amount, refund.provider_payment_id) == (AMOUNT, PAYMENT_ID)
        assert decision.state is not None and decision.state.status is S.FUNDS_HELD
        assert decision.state.pending_refund_command_id == refund.meta.command_id

    def test_the_buyer_cannot_cancel_a_funded_escrow(self) -> None:
        state = escrow_in(S.FUNDS_HELD)

        decision = decide(state, CancelEscrow(command_meta(actor=BUYER), "changed mind"), NOW)

        assert_rejected(decision, state, Reason.NOT_SELLER_OR_ADMIN)

    def test_cancelling_a_funded_escrow_needs_a_reason(self) -> None:
        state = escrow_in(S.FUNDS_HELD)

        decision = decide(state, CancelEscrow(command_meta(actor=SELLER), "  "), NOW)

        assert_rejected(decision, state, Reason.REASON_REQUIRED)

    def test_the_refund_succeeding_refunds_the_escrow(self) -> None:
        decision = decide(
            escrow_in(S.FUNDS_HELD), CancelEscrow(command_meta(actor=SELLER), "x"), NOW
        )
        [refund] = decision.payment_commands

        done = decide(
            decision.state,
            RefundSucceeded(payment_meta(causation_id=refund.meta.command_id), "re_1", AMOUNT),
            NOW,
        )

        assert isinstance(done.events[0], EscrowRefunded)
        assert done.state is not None and done.state.status is S.REFUNDED
        assert done.state.pending_refund_command_id == ""


class TestDelivered:
    def test_the_buyer_releases_the_funds(self) -> None:
        decision = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)

        [requested] = decision.events
        [transfer] = decision.payment_commands
        assert isinstance(requested, EscrowTransferRequested)
        assert isinstance(transfer, TransferToSeller)
        assert (transfer.amount, transfer.seller_stripe_account_id) == (AMOUNT, "acct_seller_1")
        assert transfer.provider_payment_id == PAYMENT_ID
        assert decision.state is not None and decision.state.status is S.DELIVERED
        assert decision.state.pending_transfer_command_id == transfer.meta.command_id

    def test_the_system_auto_releases_seven_days_after_delivery(self) -> None:
        state = escrow_in(S.DELIVERED)
        command = ReleaseFunds(command_meta(actor=SCHEDULER))

        early = decide(
            state, command, NOW + DEFAULT_POLICY.auto_release_after - timedelta(seconds=1)
        )
        assert_rejected(early, state, Reason.TIMEOUT_NOT_REACHED)
        assert isinstance(
            decide(state, command, NOW + DEFAULT_POLICY.auto_release_after).payment_commands[0],
            TransferToSeller,
        )

    def test_the_transfer_succeeding_releases_the_escrow(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        [transfer] = pending.payment_commands

        done = decide(
            pending.state,
            TransferSucceeded(payment_meta(causation_id=transfer.meta.command_id), "tr_1", AMOUNT),
            NOW,
        )

        [released] = done.events
        assert isinstance(released, EscrowReleased) and released.transfer_id == "tr_1"
        assert done.state is not None and done.state.status is S.RELEASED

    def test_a_failed_transfer_returns_to_delivered_and_can_be_retried(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        [transfer] = pending.payment_commands

        failed = decide(
            pending.state,
            TransferFailed(payment_meta(causation_id=transfer.meta.command_id), "account_closed"),
            NOW,
        )

        [event] = failed.events
        assert isinstance(event, EscrowTransferFailed) and event.attempts == 1
        assert failed.state is not None and failed.state.status is S.DELIVERED
        assert not failed.state.payout_pending
        retry = decide(failed.state, ReleaseFunds(command_meta(actor=BUYER)), NOW)
        assert isinstance(retry.payment_commands[0], TransferToSeller)

    def test_a_second_release_while_the_transfer_is_pending_is_refused(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        assert pending.state is not None

        again = decide(pending.state, ReleaseFunds(command_meta(actor=BUYER)), NOW)

        assert_rejected(again, pending.state, Reason.PAYOUT_PENDING)

    def test_a_transfer_outcome_for_another_command_is_refused(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        assert pending.state is not None
        stray = TransferSucceeded(payment_meta(causation_id="some-other-command"), "tr_9", AMOUNT)

        assert_rejected(decide(pending.state, stray, NOW), pending.state, Reason.PAYOUT_MISMATCH)

    def test_the_buyer_disputes_after_delivery(self) -> None:
        decision = decide(
            escrow_in(S.DELIVERED), RaiseDispute(command_meta(actor=BUYER), "broken"), NOW
        )

        assert decision.state is not None and decision.state.status is S.DISPUTED

    def test_the_seller_cannot_dispute_after_delivery(self) -> None:
        state = escrow_in(S.DELIVERED)

        decision = decide(state, RaiseDispute(command_meta(actor=SELLER), "x"), NOW)

        assert_rejected(decision, state, Reason.NOT_BUYER)


class TestDisputed:
    def test_resolving_for_the_seller_transfers_and_releases(self) -> None:
        command = ResolveDispute(command_meta(actor=ADMIN), DisputeResolution.FAVOR_SELLER)
        pending = decide(escrow_in(S.DISPUTED), command, NOW)
        [transfer] = pending.payment_commands
        assert isinstance(transfer, TransferToSeller)

        done = decide(
            pending.state,
            TransferSucceeded(payment_meta(causation_id=transfer.meta.command_id), "tr_1", AMOUNT),
            NOW,
        )

        assert done.state is not None and done.state.status is S.RELEASED

    def test_resolving_for_the_buyer_refunds(self) -> None:
        command = ResolveDispute(command_meta(actor=ADMIN), DisputeResolution.FAVOR_BUYER)
        pending = decide(escrow_in(S.DISPUTED), command, NOW)
        [refund] = pending.payment_commands
        assert isinstance(refund, InitiateRefund)

        done = decide(
            pending.state,
            RefundSucceeded(payment_meta(causation_id=refund.meta.command_id), "re_1", AMOUNT),
            NOW,
        )

        assert done.state is not None and done.state.status is S.REFUNDED

    def test_a_failed_refund_keeps_the_dispute_open(self) -> None:
        command = ResolveDispute(command_meta(actor=ADMIN), DisputeResolution.FAVOR_BUYER)
        pending = decide(escrow_in(S.DISPUTED), command, NOW)
        [refund] = pending.payment_commands

        failed = decide(
            pending.state,
            RefundFailed(payment_meta(causation_id=refund.meta.command_id), "expired_card"),
            NOW,
        )

        assert isinstance(failed.events[0], EscrowRefundFailed)
        assert failed.state is not None and failed.state.status is S.DISPUTED
        assert not failed.state.payout_pending

    def test_a_resolution_must_pick_a_side(self) -> None:
        state = escrow_in(S.DISPUTED)
        command = ResolveDispute(command_meta(actor=ADMIN), DisputeResolution.UNSPECIFIED)

        assert_rejected(decide(state, command, NOW), state, Reason.INVALID_RESOLUTION)


class TestGuards:
    def test_a_command_for_an_unknown_escrow_is_refused(self) -> None:
        decision = decide(None, MarkDelivered(command_meta(actor=SELLER)), NOW)

        assert_rejected(decision, None, Reason.ESCROW_NOT_FOUND)
        assert decision.state is None

    def test_a_duplicate_command_emits_nothing(self) -> None:
        command = MarkDelivered(command_meta(actor=SELLER))
        state = decide(escrow_in(S.FUNDS_HELD), command, NOW).state

        assert decide(state, command, NOW) == Decision(state)

    def test_a_duplicate_payment_event_emits_nothing(self) -> None:
        event = payment_succeeded()
        state = decide(escrow_in(S.AWAIT_FUNDS), event, NOW).state

        assert decide(state, event, NOW) == Decision(state)

    def test_a_refused_command_retried_stays_refused_without_a_new_event(self) -> None:
        state = escrow_in(S.FUNDS_HELD)
        command = MarkDelivered(command_meta(actor=SELLER, expected_version=1))
        refused = decide(state, command, NOW)

        assert decide(refused.state, command, NOW) == Decision(refused.state)

    def test_a_stale_expected_version_is_refused(self) -> None:
        state = escrow_in(S.FUNDS_HELD)
        command = MarkDelivered(command_meta(actor=SELLER, expected_version=state.version - 1))

        assert_rejected(decide(state, command, NOW), state, Reason.VERSION_MISMATCH)

    def test_the_current_expected_version_is_accepted(self) -> None:
        state = escrow_in(S.FUNDS_HELD)
        command = MarkDelivered(command_meta(actor=SELLER, expected_version=state.version))

        assert decide(state, command, NOW).rejection is None

    def test_event_ids_derive_from_escrow_type_and_cause(self) -> None:
        command = create_escrow("esc-ids")

        first, second = decide(None, command, NOW), decide(None, command, NOW)

        assert first.events == second.events
        assert first.events[0].meta.event_id == derive_id(
            "esc-ids", "EscrowCreated", command.meta.command_id
        )


def assert_returned(decision: Decision, payment: PaymentSucceeded) -> None:
    """The payment is sent back once: one EscrowPaymentReturned and one ReturnPayment whose id
    derives from the payment event."""
    assert decision.rejection is None
    [returned] = decision.events
    [command] = decision.payment_commands
    assert isinstance(returned, EscrowPaymentReturned) and isinstance(command, ReturnPayment)
    assert returned.payment_command_id == command.meta.command_id
    assert command.meta.command_id == derive_id(
        payment.meta.escrow_id, "ReturnPayment", payment.meta.event_id
    )
    assert (command.provider_payment_id, command.amount) == (
        payment.provider_payment_id,
        payment.amount,
    )
    assert returned.reason == command.reason != ""


class TestStrandedMoney:
    def test_a_payment_after_cancellation_goes_back(self) -> None:
        payment = payment_succeeded()

        decision = decide(escrow_in(S.CANCELLED), payment, NOW)

        assert_returned(decision, payment)
        assert decision.state is not None and decision.state.status is S.CANCELLED

    @pytest.mark.parametrize("status", [S.FUNDS_HELD, S.DELIVERED, S.DISPUTED, S.RELEASED])
    def test_a_second_payment_for_a_funded_escrow_goes_back(self, status: S) -> None:
        payment = payment_succeeded(payment_id="pi_second")

        assert_returned(decide(escrow_in(status), payment, NOW), payment)

    @pytest.mark.parametrize("status", [S.FUNDS_HELD, S.DELIVERED, S.RELEASED, S.REFUNDED])
    def test_the_funding_payment_reported_again_changes_nothing(self, status: S) -> None:
        state = escrow_in(status)

        assert decide(state, payment_succeeded(), NOW) == Decision(state)

    def test_the_same_late_payment_twice_is_returned_once(self) -> None:
        payment = payment_succeeded()
        first = decide(escrow_in(S.CANCELLED), payment, NOW)

        assert decide(first.state, payment, NOW) == Decision(first.state)

    def test_cancelling_an_unfunded_escrow_closes_its_way_to_pay(self) -> None:
        decision = decide(
            escrow_in(S.AWAIT_FUNDS), CancelEscrow(command_meta(actor=BUYER), "no"), NOW
        )

        [close] = decision.payment_commands
        assert isinstance(close, CancelPayment) and close.provider_payment_id == PAYMENT_ID

    def test_a_payment_intent_created_after_cancellation_is_closed(self) -> None:
        state = apply_all([create_escrow(), CancelEscrow(command_meta(actor=BUYER), "no")])
        assert not state.provider_payment_id

        decision = decide(state, payment_intent_created(), NOW)

        assert decision.events == ()
        [close] = decision.payment_commands
        assert isinstance(close, CancelPayment) and close.provider_payment_id == PAYMENT_ID

    def test_the_last_allowed_payment_failure_closes_the_way_to_pay(self) -> None:
        state = escrow_in(S.AWAIT_FUNDS)
        for _ in range(MAX_PAYMENT_FAILURES):
            decision = decide(state, PaymentFailed(payment_meta(), PAYMENT_ID, "declined"), NOW)
            state = decision.state  # type: ignore[assignment]

        assert [type(c) for c in decision.payment_commands] == [CancelPayment]

    @pytest.mark.parametrize(
        "outcome",
        [
            PaymentReturned(payment_meta(), PAYMENT_ID, "ret_1", AMOUNT, "cancelled"),
            PaymentCancelled(payment_meta(), PAYMENT_ID),
        ],
    )
    def test_what_a_compensation_achieved_changes_no_escrow(
        self, outcome: PaymentReturned | PaymentCancelled
    ) -> None:
        state = escrow_in(S.CANCELLED)

        assert decide(state, outcome, NOW) == Decision(state)


class TestPayoutsConfirmedLater:
    def test_a_submitted_transfer_stays_pending_until_the_provider_confirms(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        [transfer] = pending.payment_commands
        command_id = transfer.meta.command_id

        submitted = decide(
            pending.state,
            TransferSubmitted(payment_meta(causation_id=command_id), "trf_1", AMOUNT, command_id),
            NOW,
        )

        assert event_types(submitted) == ["EscrowTransferSubmitted"]
        assert submitted.state is not None and submitted.state.status is S.DELIVERED
        assert submitted.state.payout_pending
        # The custodian's transfer.completed webhook: caused by its event, naming the command.
        confirmed = decide(
            submitted.state,
            TransferSucceeded(
                payment_meta(causation_id="custodian:evt_1"), "trf_1", AMOUNT, command_id
            ),
            NOW,
        )
        assert event_types(confirmed) == ["EscrowReleased"]

    def test_a_confirmation_may_come_before_the_submission_is_recorded(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        command_id = pending.payment_commands[0].meta.command_id

        confirmed = decide(
            pending.state,
            TransferSucceeded(
                payment_meta(causation_id="custodian:evt_1"), "trf_1", AMOUNT, command_id
            ),
            NOW,
        )

        assert confirmed.state is not None and confirmed.state.status is S.RELEASED

    def test_a_failed_transfer_reported_by_webhook_returns_to_delivered(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        command_id = pending.payment_commands[0].meta.command_id

        failed = decide(
            pending.state,
            TransferFailed(
                payment_meta(causation_id="custodian:evt_2"),
                "chain_reverted",
                "",
                command_id,
                "trf_1",
            ),
            NOW,
        )

        assert failed.state is not None and failed.state.status is S.DELIVERED
        assert not failed.state.payout_pending and failed.state.transfer_failures == 1

    def test_a_refund_confirmed_by_webhook_refunds_the_escrow(self) -> None:
        pending = decide(
            escrow_in(S.FUNDS_HELD), CancelEscrow(command_meta(actor=SELLER), "out of stock"), NOW
        )
        command_id = pending.payment_commands[0].meta.command_id
        submitted = decide(
            pending.state,
            RefundSubmitted(payment_meta(causation_id=command_id), "re_1", AMOUNT, command_id),
            NOW,
        )

        refunded = decide(
            submitted.state,
            RefundSucceeded(payment_meta(causation_id="stripe:evt_9"), "re_1", AMOUNT, command_id),
            NOW,
        )

        assert refunded.state is not None and refunded.state.status is S.REFUNDED

    def test_a_confirmation_of_another_payout_is_refused(self) -> None:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        stray = TransferSucceeded(
            payment_meta(causation_id="custodian:evt_3"), "trf_9", AMOUNT, "other"
        )

        assert_rejected(decide(pending.state, stray, NOW), pending.state, Reason.PAYOUT_MISMATCH)


class TestAfterTheFact:
    def chargeback(self) -> ChargebackOpened:
        return ChargebackOpened(payment_meta(), PAYMENT_ID, "dp_1", AMOUNT, "fraudulent")

    @pytest.mark.parametrize("status", [S.FUNDS_HELD, S.DELIVERED])
    def test_a_chargeback_on_held_funds_disputes_the_escrow(self, status: S) -> None:
        decision = decide(escrow_in(status), self.chargeback(), NOW)

        assert event_types(decision) == ["EscrowChargebackOpened", "EscrowDisputed"]
        assert decision.state is not None and decision.state.status is S.DISPUTED

    @pytest.mark.parametrize("status", [S.DISPUTED, S.RELEASED, S.REFUNDED])
    def test_a_chargeback_elsewhere_is_recorded(self, status: S) -> None:
        decision = decide(escrow_in(status), self.chargeback(), NOW)

        assert event_types(decision) == ["EscrowChargebackOpened"]
        assert decision.state is not None and decision.state.status is status

    def test_the_same_chargeback_twice_is_recorded_once(self) -> None:
        chargeback = self.chargeback()
        first = decide(escrow_in(S.FUNDS_HELD), chargeback, NOW)

        assert decide(first.state, chargeback, NOW) == Decision(first.state)

    def test_a_closed_chargeback_and_a_reversed_transfer_are_recorded(self) -> None:
        state = escrow_in(S.RELEASED)
        closed = ChargebackClosed(payment_meta(), PAYMENT_ID, "dp_1", "lost")
        reversed_ = TransferReversed(payment_meta(), "tr_1", AMOUNT)

        assert event_types(decide(state, closed, NOW)) == ["EscrowChargebackClosed"]
        assert event_types(decide(state, reversed_, NOW)) == ["EscrowTransferReversed"]


class TestRetryPayout:
    def failed_transfer(self) -> Escrow:
        pending = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW)
        command_id = pending.payment_commands[0].meta.command_id
        failure = TransferFailed(payment_meta(causation_id=command_id), "account_closed")
        failed = decide(pending.state, failure, NOW).state
        assert failed is not None
        return failed

    def test_an_admin_retries_a_failed_transfer_as_a_new_attempt(self) -> None:
        state = self.failed_transfer()
        first_attempt = state.processed_ids

        decision = decide(state, RetryPayout(command_meta(actor=ADMIN)), NOW)

        [transfer] = decision.payment_commands
        assert isinstance(transfer, TransferToSeller)
        assert transfer.meta.command_id not in first_attempt
        assert decision.state is not None and decision.state.payout_pending
        assert decision.state.payout_to_retry == ""

    def test_a_failed_refund_is_retried_as_a_refund(self) -> None:
        pending = decide(
            escrow_in(S.FUNDS_HELD), CancelEscrow(command_meta(actor=SELLER), "sold out"), NOW
        )
        command_id = pending.payment_commands[0].meta.command_id
        failure = RefundFailed(payment_meta(causation_id=command_id), "expired_card")
        failed = decide(pending.state, failure, NOW).state

        decision = decide(failed, RetryPayout(command_meta(actor=ADMIN)), NOW)

        assert [type(c) for c in decision.payment_commands] == [InitiateRefund]

    def test_nothing_to_retry_is_refused(self) -> None:
        state = escrow_in(S.DELIVERED)

        decision = decide(state, RetryPayout(command_meta(actor=ADMIN)), NOW)

        assert_rejected(decision, state, Reason.NO_FAILED_PAYOUT)

    def test_only_an_admin_retries(self) -> None:
        state = self.failed_transfer()

        decision = decide(state, RetryPayout(command_meta(actor=BUYER)), NOW)

        assert_rejected(decision, state, Reason.NOT_ADMIN)
