"""The handlers of the parties', the admins' and the scheduler's commands (DESIGN.md §4), each
called by ``decide`` after the guards admitted the command. Pure."""

from __future__ import annotations

from datetime import datetime

from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    CreateEscrow,
    CreatePaymentIntent,
    EscrowAwaitFunds,
    EscrowCancelled,
    EscrowCreated,
    EscrowDelivered,
    EscrowDisputed,
    EscrowEvent,
    EscrowFundsHeld,
    EscrowPaymentFailed,
    EscrowReviewApproved,
    EscrowReviewRejected,
    MarkDelivered,
    RaiseDispute,
    RejectReview,
    ReleaseFunds,
    ResolveDispute,
    RetryPayout,
)
from kernel.model import (
    CURRENCY,
    MAX_PAYMENT_FAILURES,
    MIN_KYC_TIER,
    SYSTEM,
    DisputeResolution,
    Escrow,
    EscrowStatus,
    Policy,
    Rail,
    Reason,
    Role,
    route,
)
from topologies.escrow.decision import (
    Decision,
    Events,
    accepted,
    after,
    payment_command_meta,
    refuse,
)
from topologies.escrow.guards import Rejection, require_elapsed, require_review
from topologies.escrow.payment_commands import close_payment, refund, returning, transfer

S = EscrowStatus
# The failure code of a deposit an admin rejected in review (seeds: "Risk Thresholds").
REVIEW_REJECTED = "DEPOSIT_RETURNED_REVIEW"


def create_escrow(
    state: Escrow | None, cmd: CreateEscrow, now: datetime, policy: Policy
) -> Decision:
    if state is not None:
        if cmd.meta.command_id in state.processed_ids:
            return Decision(state)
        return refuse(
            state, cmd, now, Rejection(Reason.ALREADY_EXISTS, "the escrow exists already")
        )
    refusal = _check_create(cmd)
    if refusal is not None:
        return refuse(None, cmd, now, refusal)
    rail = route(cmd.amount)
    new = Events(None, cmd, now)
    created = EscrowCreated(
        new.meta(EscrowCreated),
        contract_id=cmd.contract_id,
        buyer_id=cmd.buyer_id,
        seller_id=cmd.seller_id,
        amount=cmd.amount,
        rail=rail,
        seller_stripe_account_id=cmd.seller_stripe_account_id,
        seller_wallet_address=cmd.seller_wallet_address,
        created_by=cmd.meta.actor,
    )
    awaiting = EscrowAwaitFunds(
        new.meta(EscrowAwaitFunds), cmd.amount, rail, now + policy.funding_timeout
    )
    intent = CreatePaymentIntent(
        payment_command_meta(CreatePaymentIntent, cmd.meta, now),
        amount=cmd.amount,
        rail=rail,
        buyer_id=cmd.buyer_id,
        seller_id=cmd.seller_id,
        contract_id=cmd.contract_id,
    )
    return accepted(None, [created, awaiting], [intent])


def _check_create(cmd: CreateEscrow) -> Rejection | None:
    if cmd.meta.actor.role not in (Role.SYSTEM, Role.ADMIN):
        return Rejection(Reason.NOT_AUTHORIZED, "escrows are created by the platform or an admin")
    if cmd.buyer_id == cmd.seller_id:
        return Rejection(Reason.SAME_PARTIES, "buyer and seller must differ")
    if cmd.amount.amount_cents <= 0:
        return Rejection(Reason.INVALID_AMOUNT, "amount_cents must be positive")
    if cmd.amount.currency != CURRENCY:
        return Rejection(Reason.UNSUPPORTED_CURRENCY, f"only {CURRENCY} is supported")
    if min(cmd.buyer_kyc_tier, cmd.seller_kyc_tier) < MIN_KYC_TIER:
        return Rejection(Reason.KYC_TIER_TOO_LOW, f"both parties need KYC {MIN_KYC_TIER.name}")
    rail = route(cmd.amount)
    payout = cmd.seller_stripe_account_id if rail is Rail.STRIPE else cmd.seller_wallet_address
    if not payout:
        detail = f"the {rail.name} rail needs the seller's payout account"
        return Rejection(Reason.MISSING_PAYOUT_ACCOUNT, detail)
    return None


def mark_delivered(state: Escrow, cmd: MarkDelivered, now: datetime, policy: Policy) -> Decision:
    new = Events(state, cmd, now)
    delivered = EscrowDelivered(
        new.meta(EscrowDelivered), cmd.meta.actor, cmd.note, now + policy.auto_release_after
    )
    return accepted(state, [delivered])


def release_funds(state: Escrow, cmd: ReleaseFunds, now: datetime, policy: Policy) -> Decision:
    if cmd.meta.actor.role is Role.SYSTEM:  # the scheduler's auto-release
        deadline = state.auto_release_at or after(state.delivered_at, policy.auto_release_after)
        early = require_elapsed(deadline, now, "auto-release comes after the release window")
        if early is not None:
            return refuse(state, cmd, now, early)
    return transfer(state, cmd.meta, now, DisputeResolution.UNSPECIFIED)


def cancel_escrow(state: Escrow, cmd: CancelEscrow, now: datetime, policy: Policy) -> Decision:
    if state.status is S.AWAIT_FUNDS:
        if cmd.meta.actor.role is Role.SYSTEM:  # the scheduler's funding timeout
            deadline = state.funding_deadline or state.created_at + policy.funding_timeout
            early = require_elapsed(deadline, now, "unfunded escrows time out at their deadline")
            if early is not None:
                return refuse(state, cmd, now, early)
        new = Events(state, cmd, now)
        events: list[EscrowEvent] = []
        commands = close_payment(state, cmd.meta.command_id, cmd.meta, now)
        if state.payment_under_review:  # the deposit waiting for review goes back
            returned, command = returning(
                state, cmd, new, state.amount, "the escrow was cancelled", state.provider_payment_id
            )
            events, commands = [returned], [command, *commands]
        events.append(EscrowCancelled(new.meta(EscrowCancelled), cmd.meta.actor, cmd.reason))
        return accepted(state, events, commands)
    # FUNDS_HELD: cancelling means refunding the buyer before delivery.
    if not cmd.reason.strip():
        refusal = Rejection(Reason.REASON_REQUIRED, "cancelling a funded escrow needs a reason")
        return refuse(state, cmd, now, refusal)
    return refund(state, cmd.meta, now, cmd.reason, DisputeResolution.UNSPECIFIED)


def raise_dispute(state: Escrow, cmd: RaiseDispute, now: datetime) -> Decision:
    new = Events(state, cmd, now)
    return accepted(state, [EscrowDisputed(new.meta(EscrowDisputed), cmd.meta.actor, cmd.reason)])


def resolve_dispute(state: Escrow, cmd: ResolveDispute, now: datetime) -> Decision:
    if cmd.resolution is DisputeResolution.FAVOR_SELLER:
        return transfer(state, cmd.meta, now, cmd.resolution)
    if cmd.resolution is DisputeResolution.FAVOR_BUYER:
        reason = cmd.note or "dispute resolved for the buyer"
        return refund(state, cmd.meta, now, reason, cmd.resolution)
    refusal = Rejection(Reason.INVALID_RESOLUTION, "resolution must favour the seller or the buyer")
    return refuse(state, cmd, now, refusal)


def retry_payout(state: Escrow, cmd: RetryPayout, now: datetime) -> Decision:
    """The failed payout again, as a new attempt: a new payment command id, so a new
    idempotency key at the provider (the failed attempt's key would replay its failure)."""
    if state.payout_to_retry == "transfer":
        return transfer(state, cmd.meta, now, DisputeResolution.UNSPECIFIED)
    if state.payout_to_retry == "refund":
        reason = "retry of a failed refund"
        return refund(state, cmd.meta, now, reason, DisputeResolution.UNSPECIFIED)
    refusal = Rejection(Reason.NO_FAILED_PAYOUT, "no failed payout waits for a retry")
    return refuse(state, cmd, now, refusal)


def approve_review(state: Escrow, cmd: ApproveReview, now: datetime) -> Decision:
    refusal = require_review(state)
    if refusal is not None:
        return refuse(state, cmd, now, refusal)
    new = Events(state, cmd, now)
    approved = EscrowReviewApproved(new.meta(EscrowReviewApproved), cmd.meta.actor, cmd.note)
    held = EscrowFundsHeld(new.meta(EscrowFundsHeld), state.provider_payment_id, state.amount)
    return accepted(state, [approved, held])


def reject_review(state: Escrow, cmd: RejectReview, now: datetime) -> Decision:
    """The deposit goes back (a payment failure, DEPOSIT_RETURNED_REVIEW, counted like the
    others: the last allowed one cancels the escrow)."""
    refusal = require_review(state)
    if refusal is not None:
        return refuse(state, cmd, now, refusal)
    new = Events(state, cmd, now)
    rejected = EscrowReviewRejected(new.meta(EscrowReviewRejected), cmd.meta.actor, cmd.note)
    returned, command = returning(
        state, cmd, new, state.amount, "rejected in review", state.provider_payment_id
    )
    attempts = state.payment_failures + 1
    failed = EscrowPaymentFailed(
        new.meta(EscrowPaymentFailed), state.provider_payment_id, REVIEW_REJECTED, attempts
    )
    events: list[EscrowEvent] = [rejected, returned, failed]
    if attempts < MAX_PAYMENT_FAILURES:
        return accepted(state, events, [command])
    reason = f"payment failed {attempts} times (last: {REVIEW_REJECTED})"
    events.append(EscrowCancelled(new.meta(EscrowCancelled), SYSTEM, reason))
    closing = close_payment(state, cmd.meta.command_id, cmd.meta, now)
    return accepted(state, events, [command, *closing])
