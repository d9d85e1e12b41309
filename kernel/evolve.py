"""``evolve(state, event) -> Escrow``: how each escrow event changes the escrow (DESIGN.md §4).

Pure and total over ``EscrowEvent``. ``decide`` computes the new state by folding the events it
emits through ``evolve``, so replaying ``escrow.events.v1`` rebuilds the stored state exactly.
``STATUS_AFTER`` is the one statement of which status an event leads to; the projections read it
too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import reduce, singledispatch

from kernel.messages import (
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
)
from kernel.model import PROCESSED_IDS_KEPT, Escrow, EscrowStatus

# The status each event leads to; events not listed keep the status they find.
STATUS_AFTER: dict[type, EscrowStatus] = {
    EscrowCreated: EscrowStatus.AWAIT_FUNDS,
    EscrowAwaitFunds: EscrowStatus.AWAIT_FUNDS,
    EscrowFundsHeld: EscrowStatus.FUNDS_HELD,
    EscrowDelivered: EscrowStatus.DELIVERED,
    EscrowDisputed: EscrowStatus.DISPUTED,
    EscrowReleased: EscrowStatus.RELEASED,
    EscrowRefunded: EscrowStatus.REFUNDED,
    EscrowCancelled: EscrowStatus.CANCELLED,
}


def status_after(event: EscrowEvent, status: EscrowStatus) -> EscrowStatus:
    """The status an escrow in ``status`` has after ``event``."""
    return STATUS_AFTER.get(type(event), status)


def fold(events: Iterable[EscrowEvent], start: Escrow | None = None) -> Escrow | None:
    """The escrow after applying ``events`` in order to ``start`` (None: not created yet)."""
    return reduce(evolve, events, start)


def evolve(state: Escrow | None, event: EscrowEvent) -> Escrow | None:
    """:raises ValueError: an applied event other than EscrowCreated before the escrow exists."""
    if isinstance(event, EscrowCreated):
        return _created(event)
    if isinstance(event, EscrowCommandRejected):
        # Changes nothing but the idempotency record: a retried refused command stays refused.
        return state and replace(state, processed_ids=_remember(state, event.command_id))
    if state is None:
        raise ValueError(f"{type(event).__name__} before EscrowCreated for {event.meta.escrow_id}")
    return _applied(_apply(event, state), event)


def _applied(state: Escrow, event: EscrowEvent) -> Escrow:
    meta = event.meta
    return replace(
        state,
        status=status_after(event, state.status),
        version=meta.version,
        updated_at=meta.occurred_at,
        processed_ids=_remember(state, meta.causation_id),
    )


def _remember(state: Escrow, message_id: str) -> tuple[str, ...]:
    if message_id in state.processed_ids:
        return state.processed_ids
    return (*state.processed_ids, message_id)[-PROCESSED_IDS_KEPT:]


def _created(event: EscrowCreated) -> Escrow:
    return Escrow(
        escrow_id=event.meta.escrow_id,
        contract_id=event.contract_id,
        status=STATUS_AFTER[EscrowCreated],
        buyer_id=event.buyer_id,
        seller_id=event.seller_id,
        amount=event.amount,
        rail=event.rail,
        seller_stripe_account_id=event.seller_stripe_account_id,
        seller_wallet_address=event.seller_wallet_address,
        version=event.meta.version,
        created_at=event.meta.occurred_at,
        updated_at=event.meta.occurred_at,
        processed_ids=(event.meta.causation_id,),
    )


_RECORDS_ONLY = (
    EscrowTransferSubmitted,
    EscrowRefundSubmitted,
    EscrowPaymentReturned,
    EscrowChargebackOpened,
    EscrowChargebackClosed,
    EscrowTransferReversed,
)


@singledispatch
def _apply(event: EscrowEvent, state: Escrow) -> Escrow:
    """What an event changes besides status, version and the idempotency record; for the
    status-only events (``STATUS_AFTER``) and the records of what a provider is doing (a payout
    submitted, money returned), nothing."""
    if type(event) in STATUS_AFTER or type(event) in _RECORDS_ONLY:
        return state
    raise TypeError(f"no evolve rule for {type(event).__name__}")


@_apply.register
def _(event: EscrowPaymentIntentRecorded, state: Escrow) -> Escrow:
    return replace(state, provider_payment_id=event.provider_payment_id)


@_apply.register
def _(event: EscrowPaymentUnderReview, state: Escrow) -> Escrow:
    return replace(state, payment_under_review=True)


@_apply.register
def _(event: EscrowReviewApproved | EscrowReviewRejected, state: Escrow) -> Escrow:
    return replace(state, payment_under_review=False)


@_apply.register
def _(event: EscrowPaymentFailed, state: Escrow) -> Escrow:
    attempt = (event.attempt_id,) if event.attempt_id else ()
    return replace(
        state,
        payment_failures=event.attempts,
        failed_attempt_ids=(*state.failed_attempt_ids, *attempt),
    )


@_apply.register
def _(event: EscrowAwaitFunds, state: Escrow) -> Escrow:
    return replace(state, funding_deadline=event.funding_deadline)


@_apply.register
def _(event: EscrowDelivered, state: Escrow) -> Escrow:
    return replace(
        state, delivered_at=event.meta.occurred_at, auto_release_at=event.auto_release_at
    )


@_apply.register
def _(event: EscrowTransferRequested, state: Escrow) -> Escrow:
    return replace(state, pending_transfer_command_id=event.payment_command_id, payout_to_retry="")


@_apply.register
def _(event: EscrowTransferFailed, state: Escrow) -> Escrow:
    return replace(
        state,
        pending_transfer_command_id="",
        transfer_failures=event.attempts,
        payout_to_retry="transfer",
    )


@_apply.register
def _(event: EscrowReleased, state: Escrow) -> Escrow:
    return replace(state, pending_transfer_command_id="")


@_apply.register
def _(event: EscrowRefundRequested, state: Escrow) -> Escrow:
    return replace(state, pending_refund_command_id=event.payment_command_id, payout_to_retry="")


@_apply.register
def _(event: EscrowRefundFailed, state: Escrow) -> Escrow:
    return replace(
        state,
        pending_refund_command_id="",
        refund_failures=event.attempts,
        payout_to_retry="refund",
    )


@_apply.register
def _(event: EscrowRefunded, state: Escrow) -> Escrow:
    return replace(state, pending_refund_command_id="")
