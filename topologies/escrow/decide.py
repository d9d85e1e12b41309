"""``decide(state, message, now) -> Decision``: the escrow state machine (DESIGN.md §4).

Pure: no clock (``now`` is an argument), no randomness (ids derive from their cause), no I/O.
Every message first passes the guards every message of its family passes (``guards.py``), in the
seeds' order ("State Machine Guards"): the escrow exists, the party may send it
(``kernel.permissions``), it was not processed already (idempotency), the expected version
matches, the state allows it, no payout is under way (commands) or it answers the payout under
way (payout outcomes). Then one handler per message type applies its own rules and builds its
events. A refusal is a value: an ``EscrowCommandRejected`` event and nothing else. The new state
is the old one with the emitted events folded in through ``evolve``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from kernel.evolve import fold
from kernel.ids import event_meta, system_command_meta
from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    CancelPayment,
    ChargebackClosed,
    ChargebackOpened,
    CommandMeta,
    CreateEscrow,
    CreatePaymentIntent,
    EscrowAwaitFunds,
    EscrowCancelled,
    EscrowChargebackClosed,
    EscrowChargebackOpened,
    EscrowCommandRejected,
    EscrowCreated,
    EscrowDelivered,
    EscrowDisputed,
    EscrowEvent,
    EscrowFundsHeld,
    EscrowPaymentFailed,
    EscrowPaymentIntentRecorded,
    EscrowPaymentReturned,
    EscrowPaymentUnderReview,
    EscrowRefunded,
    EscrowRefundFailed,
    EscrowRefundRequested,
    EscrowRefundSubmitted,
    EscrowReleased,
    EscrowReviewApproved,
    EscrowReviewRejected,
    EscrowTransferFailed,
    EscrowTransferRequested,
    EscrowTransferReversed,
    EscrowTransferSubmitted,
    EventMeta,
    InitiateRefund,
    MarkDelivered,
    Message,
    PaymentCancelled,
    PaymentCommand,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentIntentCreated,
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
    CURRENCY,
    DEFAULT_POLICY,
    MAX_PAYMENT_FAILURES,
    MIN_KYC_TIER,
    SYSTEM,
    Actor,
    DisputeResolution,
    Escrow,
    EscrowStatus,
    Money,
    Policy,
    Rail,
    Reason,
    Role,
    route,
)
from topologies.escrow.guards import (
    Duplicate,
    Rejection,
    admit_command,
    admit_event,
    require_elapsed,
    require_review,
)

S = EscrowStatus
# The failure code of a deposit an admin rejected in review (seeds: "Risk Thresholds").
REVIEW_REJECTED = "DEPOSIT_RETURNED_REVIEW"


@dataclass(frozen=True)
class Decision:
    """What a message does: the state after it, the events and payment commands to emit, and
    the refusal if a guard refused it (then ``events`` is the one EscrowCommandRejected)."""

    state: Escrow | None
    events: tuple[EscrowEvent, ...] = ()
    payment_commands: tuple[PaymentCommand, ...] = ()
    rejection: Rejection | None = None


def decide(
    state: Escrow | None, message: Message, now: datetime, policy: Policy = DEFAULT_POLICY
) -> Decision:
    """Applies one command or payment event to an escrow (None: not created yet) at ``now`` (the
    message's record time), under ``policy`` (the deadlines and payout retries it sets).

    Implements the transition table of DESIGN.md §4 (seeds: State Machine quick reference,
    sprint tasks 4.5-4.15). Never raises for business refusals; see ``kernel.model.Reason``.
    """
    if isinstance(message, CreateEscrow):
        return _create_escrow(state, message, now, policy)
    if state is None:
        return _rejected(None, message, now, Rejection(Reason.ESCROW_NOT_FOUND, "no such escrow"))
    refusal = admit_command(state, message) if _is_command(message) else admit_event(state, message)
    if isinstance(refusal, Duplicate):
        return Decision(state)
    if refusal is not None:
        return _rejected(state, message, now, refusal)
    timed = _TIMED_HANDLERS.get(type(message))
    if timed is not None:
        return timed(state, message, now, policy)
    return _HANDLERS[type(message)](state, message, now)


# --- commands -------------------------------------------------------------------------------


def _create_escrow(
    state: Escrow | None, cmd: CreateEscrow, now: datetime, policy: Policy
) -> Decision:
    if state is not None:
        if cmd.meta.command_id in state.processed_ids:
            return Decision(state)
        return _rejected(
            state, cmd, now, Rejection(Reason.ALREADY_EXISTS, "the escrow exists already")
        )
    refusal = _check_create(cmd)
    if refusal is not None:
        return _rejected(None, cmd, now, refusal)
    rail = route(cmd.amount)
    new = _Events(None, cmd, now)
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
        _payment_command_meta(CreatePaymentIntent, cmd.meta, now),
        amount=cmd.amount,
        rail=rail,
        buyer_id=cmd.buyer_id,
        seller_id=cmd.seller_id,
        contract_id=cmd.contract_id,
    )
    return _accepted(None, [created, awaiting], [intent])


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


def _mark_delivered(state: Escrow, cmd: MarkDelivered, now: datetime, policy: Policy) -> Decision:
    new = _Events(state, cmd, now)
    delivered = EscrowDelivered(
        new.meta(EscrowDelivered), cmd.meta.actor, cmd.note, now + policy.auto_release_after
    )
    return _accepted(state, [delivered])


def _release_funds(state: Escrow, cmd: ReleaseFunds, now: datetime, policy: Policy) -> Decision:
    if cmd.meta.actor.role is Role.SYSTEM:  # the scheduler's auto-release
        deadline = state.auto_release_at or _after(state.delivered_at, policy.auto_release_after)
        early = require_elapsed(deadline, now, "auto-release comes after the release window")
        if early is not None:
            return _rejected(state, cmd, now, early)
    return _transfer(state, cmd.meta, now, DisputeResolution.UNSPECIFIED)


def _cancel_escrow(state: Escrow, cmd: CancelEscrow, now: datetime, policy: Policy) -> Decision:
    if state.status is S.AWAIT_FUNDS:
        if cmd.meta.actor.role is Role.SYSTEM:  # the scheduler's funding timeout
            deadline = state.funding_deadline or state.created_at + policy.funding_timeout
            early = require_elapsed(deadline, now, "unfunded escrows time out at their deadline")
            if early is not None:
                return _rejected(state, cmd, now, early)
        new = _Events(state, cmd, now)
        events: list[EscrowEvent] = []
        commands = _close_payment(state, cmd.meta.command_id, cmd.meta, now)
        if state.payment_under_review:  # the deposit waiting for review goes back
            returned, command = _returning(
                state, cmd, new, state.amount, "the escrow was cancelled", state.provider_payment_id
            )
            events, commands = [returned], [command, *commands]
        events.append(EscrowCancelled(new.meta(EscrowCancelled), cmd.meta.actor, cmd.reason))
        return _accepted(state, events, commands)
    # FUNDS_HELD: cancelling means refunding the buyer before delivery.
    if not cmd.reason.strip():
        refusal = Rejection(Reason.REASON_REQUIRED, "cancelling a funded escrow needs a reason")
        return _rejected(state, cmd, now, refusal)
    return _refund(state, cmd.meta, now, cmd.reason, DisputeResolution.UNSPECIFIED)


def _raise_dispute(state: Escrow, cmd: RaiseDispute, now: datetime) -> Decision:
    new = _Events(state, cmd, now)
    return _accepted(state, [EscrowDisputed(new.meta(EscrowDisputed), cmd.meta.actor, cmd.reason)])


def _resolve_dispute(state: Escrow, cmd: ResolveDispute, now: datetime) -> Decision:
    if cmd.resolution is DisputeResolution.FAVOR_SELLER:
        return _transfer(state, cmd.meta, now, cmd.resolution)
    if cmd.resolution is DisputeResolution.FAVOR_BUYER:
        reason = cmd.note or "dispute resolved for the buyer"
        return _refund(state, cmd.meta, now, reason, cmd.resolution)
    refusal = Rejection(Reason.INVALID_RESOLUTION, "resolution must favour the seller or the buyer")
    return _rejected(state, cmd, now, refusal)


def _retry_payout(state: Escrow, cmd: RetryPayout, now: datetime) -> Decision:
    """The failed payout again, as a new attempt: a new payment command id, so a new
    idempotency key at the provider (the failed attempt's key would replay its failure)."""
    if state.payout_to_retry == "transfer":
        return _transfer(state, cmd.meta, now, DisputeResolution.UNSPECIFIED)
    if state.payout_to_retry == "refund":
        reason = "retry of a failed refund"
        return _refund(state, cmd.meta, now, reason, DisputeResolution.UNSPECIFIED)
    refusal = Rejection(Reason.NO_FAILED_PAYOUT, "no failed payout waits for a retry")
    return _rejected(state, cmd, now, refusal)


def _transfer(
    state: Escrow, meta: CommandMeta, now: datetime, resolution: DisputeResolution
) -> Decision:
    """Asks the payments topology to pay the seller; the escrow is released once it has."""
    command = TransferToSeller(
        _payment_command_meta(TransferToSeller, meta, now),
        amount=state.amount,
        rail=state.rail,
        provider_payment_id=state.provider_payment_id,
        seller_stripe_account_id=state.seller_stripe_account_id,
        seller_wallet_address=state.seller_wallet_address,
    )
    new = _Events(state, meta, now)
    requested = EscrowTransferRequested(
        new.meta(EscrowTransferRequested),
        payment_command_id=command.meta.command_id,
        amount=state.amount,
        requested_by=meta.actor,
        resolution=resolution,
    )
    return _accepted(state, [requested], [command])


def _refund(
    state: Escrow, meta: CommandMeta, now: datetime, reason: str, resolution: DisputeResolution
) -> Decision:
    """Asks the payments topology to refund the buyer; the escrow is refunded once it has."""
    command = InitiateRefund(
        _payment_command_meta(InitiateRefund, meta, now),
        amount=state.amount,
        rail=state.rail,
        provider_payment_id=state.provider_payment_id,
        reason=reason,
    )
    new = _Events(state, meta, now)
    requested = EscrowRefundRequested(
        new.meta(EscrowRefundRequested),
        payment_command_id=command.meta.command_id,
        amount=state.amount,
        requested_by=meta.actor,
        reason=reason,
        resolution=resolution,
    )
    return _accepted(state, [requested], [command])


# --- payment events -------------------------------------------------------------------------


def _payment_intent_created(state: Escrow, event: PaymentIntentCreated, now: datetime) -> Decision:
    if state.status is S.CANCELLED:
        # The way to pay arrived after the escrow was cancelled: close it, record nothing.
        closing = replace(state, provider_payment_id=event.provider_payment_id)
        return _accepted(state, [], _close_payment(closing, event.meta.event_id, event.meta, now))
    if state.provider_payment_id and state.provider_payment_id != event.provider_payment_id:
        refusal = Rejection(Reason.PAYMENT_MISMATCH, f"payment {state.provider_payment_id} exists")
        return _rejected(state, event, now, refusal)
    new = _Events(state, event, now)
    recorded = EscrowPaymentIntentRecorded(
        new.meta(EscrowPaymentIntentRecorded), event.provider_payment_id
    )
    return _accepted(state, [recorded])


def _payment_succeeded(state: Escrow, event: PaymentSucceeded, now: datetime) -> Decision:
    funding = event.provider_payment_id == state.provider_payment_id
    if funding and state.status not in (S.AWAIT_FUNDS, S.CANCELLED):
        return Decision(state)  # the payment that funded this escrow, reported again
    stranded = _stranded(state, event.provider_payment_id, event.amount)
    new = _Events(state, event, now)
    if stranded:
        returned, command = _returning(state, event, new, event.amount, stranded)
        return _accepted(state, [returned], [command])
    held = EscrowFundsHeld(new.meta(EscrowFundsHeld), event.provider_payment_id, event.amount)
    return _accepted(state, [held])


def _stranded(state: Escrow, provider_payment_id: str, amount: Money) -> str:
    """Why the escrow cannot take this money ("" if it can): the reason its sender is told."""
    if state.status is S.CANCELLED:
        return "the escrow was cancelled"
    if state.status is not S.AWAIT_FUNDS:
        return "the escrow is funded already"
    if provider_payment_id != state.provider_payment_id:
        expected = state.provider_payment_id or "(none yet)"
        return f"payment {provider_payment_id} is not this escrow's ({expected})"
    if amount != state.amount:
        return (
            f"got {amount.amount_cents} {amount.currency}, "
            f"expected {state.amount.amount_cents} {state.amount.currency}"
        )
    return ""


def _returning(
    state: Escrow, cause: Message, new: _Events, amount: Money, reason: str, payment_id: str = ""
) -> tuple[EscrowPaymentReturned, ReturnPayment]:
    """Sends money the escrow cannot take back to its sender (DESIGN.md §5 compensation), once
    per cause: the ReturnPayment's id derives from it. The payment is the cause's, or
    ``payment_id``."""
    meta = cause.meta
    payment_id = payment_id or getattr(cause, "provider_payment_id", "")
    command = ReturnPayment(
        system_command_meta(
            ReturnPayment, state.escrow_id, _message_id(meta), new.now, meta.correlation_id
        ),
        amount=amount,
        rail=state.rail,
        provider_payment_id=payment_id,
        reason=reason,
    )
    returned = EscrowPaymentReturned(
        new.meta(EscrowPaymentReturned), command.meta.command_id, payment_id, amount, reason
    )
    return returned, command


def _close_payment(
    state: Escrow, cause_id: str, cause: CommandMeta | EventMeta, now: datetime
) -> list[PaymentCommand]:
    """The CancelPayment that closes an unfunded escrow's way to pay, if it has one yet."""
    if not state.provider_payment_id:
        return []
    meta = system_command_meta(CancelPayment, state.escrow_id, cause_id, now, cause.correlation_id)
    return [CancelPayment(meta, state.rail, state.provider_payment_id)]


def _payment_failed(state: Escrow, event: PaymentFailed, now: datetime) -> Decision:
    if event.attempt_id and event.attempt_id in state.failed_attempt_ids:
        return Decision(state)  # the same attempt reported again
    attempts = state.payment_failures + 1
    new = _Events(state, event, now)
    failed = EscrowPaymentFailed(
        new.meta(EscrowPaymentFailed),
        event.provider_payment_id,
        event.failure_code,
        attempts,
        event.attempt_id,
    )
    events: list[EscrowEvent] = [failed]
    if attempts < MAX_PAYMENT_FAILURES:
        return _accepted(state, events)
    reason = f"payment failed {attempts} times (last: {event.failure_code})"
    events.append(EscrowCancelled(new.meta(EscrowCancelled), SYSTEM, reason))
    return _accepted(state, events, _close_payment(state, event.meta.event_id, event.meta, now))


def _held_for_review(state: Escrow, event: PaymentHeldForReview, now: datetime) -> Decision:
    """Stays AWAIT_FUNDS until an admin approves or rejects the deposit (ApproveReview /
    RejectReview); one the escrow could not take anyway goes back at once."""
    if state.payment_under_review and event.provider_payment_id == state.provider_payment_id:
        return Decision(state)  # the same deposit reported again
    new = _Events(state, event, now)
    stranded = _stranded(state, event.provider_payment_id, event.amount)
    if stranded:
        returned, command = _returning(state, event, new, event.amount, stranded)
        return _accepted(state, [returned], [command])
    under_review = EscrowPaymentUnderReview(
        new.meta(EscrowPaymentUnderReview),
        event.provider_payment_id,
        event.amount,
        event.payer_wallet_address,
        event.risk_score,
    )
    return _accepted(state, [under_review])


def _approve_review(state: Escrow, cmd: ApproveReview, now: datetime) -> Decision:
    refusal = require_review(state)
    if refusal is not None:
        return _rejected(state, cmd, now, refusal)
    new = _Events(state, cmd, now)
    approved = EscrowReviewApproved(new.meta(EscrowReviewApproved), cmd.meta.actor, cmd.note)
    held = EscrowFundsHeld(new.meta(EscrowFundsHeld), state.provider_payment_id, state.amount)
    return _accepted(state, [approved, held])


def _reject_review(state: Escrow, cmd: RejectReview, now: datetime) -> Decision:
    """The deposit goes back (a payment failure, DEPOSIT_RETURNED_REVIEW, counted like the
    others: the last allowed one cancels the escrow)."""
    refusal = require_review(state)
    if refusal is not None:
        return _rejected(state, cmd, now, refusal)
    new = _Events(state, cmd, now)
    rejected = EscrowReviewRejected(new.meta(EscrowReviewRejected), cmd.meta.actor, cmd.note)
    returned, command = _returning(
        state, cmd, new, state.amount, "rejected in review", state.provider_payment_id
    )
    attempts = state.payment_failures + 1
    failed = EscrowPaymentFailed(
        new.meta(EscrowPaymentFailed), state.provider_payment_id, REVIEW_REJECTED, attempts
    )
    events: list[EscrowEvent] = [rejected, returned, failed]
    if attempts < MAX_PAYMENT_FAILURES:
        return _accepted(state, events, [command])
    reason = f"payment failed {attempts} times (last: {REVIEW_REJECTED})"
    events.append(EscrowCancelled(new.meta(EscrowCancelled), SYSTEM, reason))
    closing = _close_payment(state, cmd.meta.command_id, cmd.meta, now)
    return _accepted(state, events, [command, *closing])


def _transfer_succeeded(state: Escrow, event: TransferSucceeded, now: datetime) -> Decision:
    new = _Events(state, event, now)
    return _accepted(
        state, [EscrowReleased(new.meta(EscrowReleased), event.transfer_id, event.amount)]
    )


def _transfer_failed(
    state: Escrow, event: TransferFailed, now: datetime, policy: Policy
) -> Decision:
    new = _Events(state, event, now)
    attempts = state.transfer_failures + 1
    failed = EscrowTransferFailed(
        new.meta(EscrowTransferFailed),
        payment_command_id=state.pending_transfer_command_id,
        failure_code=event.failure_code,
        attempts=attempts,
        retry_at=policy.payout_retry_at(now, attempts),
    )
    return _accepted(state, [failed])


def _refund_succeeded(state: Escrow, event: RefundSucceeded, now: datetime) -> Decision:
    new = _Events(state, event, now)
    return _accepted(
        state, [EscrowRefunded(new.meta(EscrowRefunded), event.refund_id, event.amount)]
    )


def _refund_failed(state: Escrow, event: RefundFailed, now: datetime, policy: Policy) -> Decision:
    new = _Events(state, event, now)
    attempts = state.refund_failures + 1
    failed = EscrowRefundFailed(
        new.meta(EscrowRefundFailed),
        payment_command_id=state.pending_refund_command_id,
        failure_code=event.failure_code,
        attempts=attempts,
        retry_at=policy.payout_retry_at(now, attempts),
    )
    return _accepted(state, [failed])


def _transfer_submitted(state: Escrow, event: TransferSubmitted, now: datetime) -> Decision:
    new = _Events(state, event, now)
    submitted = EscrowTransferSubmitted(
        new.meta(EscrowTransferSubmitted), event.payment_command_id, event.transfer_id
    )
    return _accepted(state, [submitted])


def _refund_submitted(state: Escrow, event: RefundSubmitted, now: datetime) -> Decision:
    new = _Events(state, event, now)
    submitted = EscrowRefundSubmitted(
        new.meta(EscrowRefundSubmitted), event.payment_command_id, event.refund_id
    )
    return _accepted(state, [submitted])


def _chargeback_opened(state: Escrow, event: ChargebackOpened, now: datetime) -> Decision:
    """Recorded; on funds still held (and no payout under way) it also disputes the escrow, so
    an admin decides before any money moves."""
    new = _Events(state, event, now)
    opened = EscrowChargebackOpened(
        new.meta(EscrowChargebackOpened), event.dispute_id, event.amount, event.reason
    )
    events: list[EscrowEvent] = [opened]
    if state.status in (S.FUNDS_HELD, S.DELIVERED) and not state.payout_pending:
        reason = f"chargeback {event.dispute_id}: {event.reason}"
        events.append(EscrowDisputed(new.meta(EscrowDisputed), SYSTEM, reason))
    return _accepted(state, events)


def _chargeback_closed(state: Escrow, event: ChargebackClosed, now: datetime) -> Decision:
    new = _Events(state, event, now)
    closed = EscrowChargebackClosed(
        new.meta(EscrowChargebackClosed), event.dispute_id, event.status
    )
    return _accepted(state, [closed])


def _transfer_reversed(state: Escrow, event: TransferReversed, now: datetime) -> Decision:
    new = _Events(state, event, now)
    reversed_ = EscrowTransferReversed(
        new.meta(EscrowTransferReversed), event.transfer_id, event.amount
    )
    return _accepted(state, [reversed_])


def _compensated(
    state: Escrow, event: PaymentReturned | PaymentCancelled, now: datetime
) -> Decision:
    # What a compensation achieved changes no escrow; the projections show it.
    return Decision(state)


# The handlers whose rules depend on the policy's clocks.
_TIMED_HANDLERS: dict[type, Callable[[Escrow, Any, datetime, Policy], Decision]] = {
    MarkDelivered: _mark_delivered,
    ReleaseFunds: _release_funds,
    CancelEscrow: _cancel_escrow,
    TransferFailed: _transfer_failed,
    RefundFailed: _refund_failed,
}
_HANDLERS: dict[type, Callable[[Escrow, Any, datetime], Decision]] = {
    RaiseDispute: _raise_dispute,
    ResolveDispute: _resolve_dispute,
    PaymentIntentCreated: _payment_intent_created,
    PaymentSucceeded: _payment_succeeded,
    PaymentFailed: _payment_failed,
    PaymentHeldForReview: _held_for_review,
    TransferSucceeded: _transfer_succeeded,
    RefundSucceeded: _refund_succeeded,
    ApproveReview: _approve_review,
    RejectReview: _reject_review,
    RetryPayout: _retry_payout,
    TransferSubmitted: _transfer_submitted,
    RefundSubmitted: _refund_submitted,
    PaymentReturned: _compensated,
    PaymentCancelled: _compensated,
    ChargebackOpened: _chargeback_opened,
    ChargebackClosed: _chargeback_closed,
    TransferReversed: _transfer_reversed,
}


# --- building decisions ---------------------------------------------------------------------


class _Events:
    """The metadata of the events one message causes, in order: ids from (escrow, event type,
    cause id), versions counting on from the escrow's."""

    def __init__(self, state: Escrow | None, cause: Message | CommandMeta, now: datetime) -> None:
        meta = cause if isinstance(cause, CommandMeta) else cause.meta
        self._escrow_id, self._cause, self.now = meta.escrow_id, _message_id(meta), now
        self._correlation_id = meta.correlation_id
        self._version = state.version if state else 0

    def meta(self, kind: type) -> EventMeta:
        self._version += 1
        return event_meta(
            kind, self._escrow_id, self._cause, self.now, self._version, self._correlation_id
        )


def _after(since: datetime | None, period: timedelta) -> datetime | None:
    return None if since is None else since + period


def _is_command(message: Message) -> bool:
    return isinstance(message.meta, CommandMeta)


def _message_id(meta: CommandMeta | EventMeta) -> str:
    return meta.command_id if isinstance(meta, CommandMeta) else meta.event_id


def _accepted(
    state: Escrow | None,
    events: Sequence[EscrowEvent],
    payment_commands: Iterable[PaymentCommand] = (),
) -> Decision:
    return Decision(fold(events, state), tuple(events), tuple(payment_commands))


def _rejected(
    state: Escrow | None, message: Message, now: datetime, rejection: Rejection
) -> Decision:
    meta = message.meta
    cause = _message_id(meta)
    actor: Actor = meta.actor if isinstance(meta, CommandMeta) else SYSTEM
    rejected = EscrowCommandRejected(
        event_meta(
            EscrowCommandRejected,
            meta.escrow_id,
            cause,
            now,
            state.version if state else 0,
            meta.correlation_id,
        ),
        cause,
        type(message).__name__,
        rejection.reason.value,
        rejection.detail,
        actor,
    )
    new_state = fold([rejected], state) if state else None
    return Decision(new_state, (rejected,), rejection=rejection)


def _payment_command_meta(kind: type, cause: CommandMeta, now: datetime) -> CommandMeta:
    return system_command_meta(kind, cause.escrow_id, cause.command_id, now, cause.correlation_id)
