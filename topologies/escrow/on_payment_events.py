"""The handlers of the payments topology's events (DESIGN.md §4-5): money arrived, failed, held
for review, paid out or not, and the card network's news. Each is called by ``decide`` after the
guards admitted the event. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kernel.messages import (
    ChargebackClosed,
    ChargebackOpened,
    EscrowCancelled,
    EscrowChargebackClosed,
    EscrowChargebackOpened,
    EscrowDisputed,
    EscrowEvent,
    EscrowFundsHeld,
    EscrowPaymentFailed,
    EscrowPaymentIntentRecorded,
    EscrowPaymentUnderReview,
    EscrowRefunded,
    EscrowRefundFailed,
    EscrowRefundSubmitted,
    EscrowReleased,
    EscrowTransferFailed,
    EscrowTransferReversed,
    EscrowTransferSubmitted,
    PaymentCancelled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentIntentCreated,
    PaymentReturned,
    PaymentSucceeded,
    RefundFailed,
    RefundSubmitted,
    RefundSucceeded,
    TransferFailed,
    TransferReversed,
    TransferSubmitted,
    TransferSucceeded,
)
from kernel.model import MAX_PAYMENT_FAILURES, SYSTEM, Escrow, EscrowStatus, Policy, Reason
from topologies.escrow.decision import Decision, Events, accepted, refuse
from topologies.escrow.guards import Rejection
from topologies.escrow.payment_commands import close_payment, returning, why_stranded

S = EscrowStatus


def payment_intent_created(state: Escrow, event: PaymentIntentCreated, now: datetime) -> Decision:
    if state.status is S.CANCELLED:
        # The way to pay arrived after the escrow was cancelled: close it, record nothing.
        closing = replace(state, provider_payment_id=event.provider_payment_id)
        return accepted(state, [], close_payment(closing, event.meta.event_id, event.meta, now))
    if state.provider_payment_id and state.provider_payment_id != event.provider_payment_id:
        refusal = Rejection(Reason.PAYMENT_MISMATCH, f"payment {state.provider_payment_id} exists")
        return refuse(state, event, now, refusal)
    new = Events(state, event, now)
    recorded = EscrowPaymentIntentRecorded(
        new.meta(EscrowPaymentIntentRecorded), event.provider_payment_id
    )
    return accepted(state, [recorded])


def payment_succeeded(state: Escrow, event: PaymentSucceeded, now: datetime) -> Decision:
    funding = event.provider_payment_id == state.provider_payment_id
    if funding and state.status not in (S.AWAIT_FUNDS, S.CANCELLED):
        return Decision(state)  # the payment that funded this escrow, reported again
    stranded = why_stranded(state, event.provider_payment_id, event.amount)
    new = Events(state, event, now)
    if stranded:
        returned, command = returning(state, event, new, event.amount, stranded)
        return accepted(state, [returned], [command])
    held = EscrowFundsHeld(new.meta(EscrowFundsHeld), event.provider_payment_id, event.amount)
    return accepted(state, [held])


def payment_failed(state: Escrow, event: PaymentFailed, now: datetime) -> Decision:
    if event.attempt_id and event.attempt_id in state.failed_attempt_ids:
        return Decision(state)  # the same attempt reported again
    attempts = state.payment_failures + 1
    new = Events(state, event, now)
    failed = EscrowPaymentFailed(
        new.meta(EscrowPaymentFailed),
        event.provider_payment_id,
        event.failure_code,
        attempts,
        event.attempt_id,
    )
    events: list[EscrowEvent] = [failed]
    if attempts < MAX_PAYMENT_FAILURES:
        return accepted(state, events)
    reason = f"payment failed {attempts} times (last: {event.failure_code})"
    events.append(EscrowCancelled(new.meta(EscrowCancelled), SYSTEM, reason))
    return accepted(state, events, close_payment(state, event.meta.event_id, event.meta, now))


def held_for_review(state: Escrow, event: PaymentHeldForReview, now: datetime) -> Decision:
    """Stays AWAIT_FUNDS until an admin approves or rejects the deposit (ApproveReview /
    RejectReview); one the escrow could not take anyway goes back at once."""
    if state.payment_under_review and event.provider_payment_id == state.provider_payment_id:
        return Decision(state)  # the same deposit reported again
    new = Events(state, event, now)
    stranded = why_stranded(state, event.provider_payment_id, event.amount)
    if stranded:
        returned, command = returning(state, event, new, event.amount, stranded)
        return accepted(state, [returned], [command])
    under_review = EscrowPaymentUnderReview(
        new.meta(EscrowPaymentUnderReview),
        event.provider_payment_id,
        event.amount,
        event.payer_wallet_address,
        event.risk_score,
    )
    return accepted(state, [under_review])


def transfer_succeeded(state: Escrow, event: TransferSucceeded, now: datetime) -> Decision:
    new = Events(state, event, now)
    return accepted(
        state, [EscrowReleased(new.meta(EscrowReleased), event.transfer_id, event.amount)]
    )


def transfer_failed(
    state: Escrow, event: TransferFailed, now: datetime, policy: Policy
) -> Decision:
    pending, failures = state.pending_transfer_command_id, state.transfer_failures
    return _payout_failed(EscrowTransferFailed, state, event, now, policy, pending, failures)


def refund_succeeded(state: Escrow, event: RefundSucceeded, now: datetime) -> Decision:
    new = Events(state, event, now)
    return accepted(
        state, [EscrowRefunded(new.meta(EscrowRefunded), event.refund_id, event.amount)]
    )


def refund_failed(state: Escrow, event: RefundFailed, now: datetime, policy: Policy) -> Decision:
    pending, failures = state.pending_refund_command_id, state.refund_failures
    return _payout_failed(EscrowRefundFailed, state, event, now, policy, pending, failures)


def _payout_failed(
    kind: type[EscrowTransferFailed | EscrowRefundFailed],
    state: Escrow,
    event: TransferFailed | RefundFailed,
    now: datetime,
    policy: Policy,
    pending_command_id: str,
    failures: int,
) -> Decision:
    """The payout under way failed: counted, and retried at the policy's next time (none once
    the failures are exhausted: then an admin retries)."""
    new = Events(state, event, now)
    attempts = failures + 1
    failed = kind(
        new.meta(kind),
        payment_command_id=pending_command_id,
        failure_code=event.failure_code,
        attempts=attempts,
        retry_at=policy.payout_retry_at(now, attempts),
    )
    return accepted(state, [failed])


def transfer_submitted(state: Escrow, event: TransferSubmitted, now: datetime) -> Decision:
    new = Events(state, event, now)
    submitted = EscrowTransferSubmitted(
        new.meta(EscrowTransferSubmitted), event.payment_command_id, event.transfer_id
    )
    return accepted(state, [submitted])


def refund_submitted(state: Escrow, event: RefundSubmitted, now: datetime) -> Decision:
    new = Events(state, event, now)
    submitted = EscrowRefundSubmitted(
        new.meta(EscrowRefundSubmitted), event.payment_command_id, event.refund_id
    )
    return accepted(state, [submitted])


def chargeback_opened(state: Escrow, event: ChargebackOpened, now: datetime) -> Decision:
    """Recorded; on funds still held (and no payout under way) it also disputes the escrow, so
    an admin decides before any money moves."""
    new = Events(state, event, now)
    opened = EscrowChargebackOpened(
        new.meta(EscrowChargebackOpened), event.dispute_id, event.amount, event.reason
    )
    events: list[EscrowEvent] = [opened]
    if state.status in (S.FUNDS_HELD, S.DELIVERED) and not state.payout_pending:
        reason = f"chargeback {event.dispute_id}: {event.reason}"
        events.append(EscrowDisputed(new.meta(EscrowDisputed), SYSTEM, reason))
    return accepted(state, events)


def chargeback_closed(state: Escrow, event: ChargebackClosed, now: datetime) -> Decision:
    new = Events(state, event, now)
    closed = EscrowChargebackClosed(
        new.meta(EscrowChargebackClosed), event.dispute_id, event.status
    )
    return accepted(state, [closed])


def transfer_reversed(state: Escrow, event: TransferReversed, now: datetime) -> Decision:
    new = Events(state, event, now)
    reversed_ = EscrowTransferReversed(
        new.meta(EscrowTransferReversed), event.transfer_id, event.amount
    )
    return accepted(state, [reversed_])


def compensated(
    state: Escrow, event: PaymentReturned | PaymentCancelled, now: datetime
) -> Decision:
    # What a compensation achieved changes no escrow; the projections show it.
    return Decision(state)


# The handlers whose rules depend on the policy's clocks.
