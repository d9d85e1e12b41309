"""``project(view, event) -> view``: the read model of one escrow (DESIGN.md §1 "Projections";
sprint tasks 8.2-8.3). Pure: the same events in the same order give the same view, so rebuilding
is replaying ``escrow.events.v1`` (and ``payments.events.v1``) into an empty store.

The view is ``escrow.v1.EscrowView``: status, parties, amount, rail, payment initialization,
transfer/refund/dispute details (and a payout the provider accepted but has not confirmed yet),
money sent back to its sender and what became of it, timestamps, version, the last
``HISTORY_KEPT`` events, and the outcome (APPLIED / REJECTED + reason) of the last
``COMMANDS_KEPT`` commands.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from kernel import messages as m
from kernel.evolve import STATUS_AFTER
from kernel.mapping import fill
from kernel.model import Actor, EscrowStatus, Money
from schemas.escrow.v1.views_pb2 import CommandStatus, EscrowView, ReturnStatus, ReviewStatus

HISTORY_KEPT = 20
COMMANDS_KEPT = 20
RETURNS_KEPT = 20

# The field naming who issued the command behind an event.
_ISSUER = {
    m.EscrowCreated: "created_by",
    m.EscrowDelivered: "delivered_by",
    m.EscrowTransferRequested: "requested_by",
    m.EscrowRefundRequested: "requested_by",
    m.EscrowCancelled: "cancelled_by",
    m.EscrowDisputed: "raised_by",
    m.EscrowCommandRejected: "actor",
    m.EscrowReviewApproved: "reviewed_by",
    m.EscrowReviewRejected: "reviewed_by",
}


def project(view: EscrowView | None, event: m.EscrowEvent | m.PaymentEvent) -> EscrowView | None:
    """The view after ``event``; None (nothing to show) for a refusal of an unknown escrow."""
    if view is None and isinstance(event, m.EscrowCommandRejected):
        return None
    new = EscrowView()
    if view is not None:
        new.CopyFrom(view)
    new.escrow_id = event.meta.escrow_id
    if isinstance(event, _PAYMENT_EVENTS):
        _PAYMENT_DETAILS.get(type(event), _nothing)(new, event)
    else:
        _escrow_event(new, event)
    return new


def _escrow_event(view: EscrowView, event: Any) -> None:
    if not isinstance(event, m.EscrowCommandRejected):
        view.version = event.meta.version
        _timestamp(view.updated_at, event.meta.occurred_at)
        entry = view.history.add(
            event_id=event.meta.event_id,
            event_type=type(event).__name__,
            version=event.meta.version,
        )
        _timestamp(entry.occurred_at, event.meta.occurred_at)
        del view.history[:-HISTORY_KEPT]
    if type(event) in STATUS_AFTER:
        view.status = int(STATUS_AFTER[type(event)])  # type: ignore[assignment]  # same numbers
    _clocks(view, event)
    details = _DETAILS.get(type(event))
    if details is not None:
        details(view, event)
    if type(event) in _ISSUER:
        _record_outcome(view, event, getattr(event, _ISSUER[type(event)]))


def _clocks(view: EscrowView, event: Any) -> None:
    """The deadlines running, shown while they can still fire (DESIGN.md §4)."""
    if isinstance(event, m.EscrowAwaitFunds) and event.funding_deadline:
        _timestamp(view.funding_deadline, event.funding_deadline)
    elif isinstance(event, m.EscrowDelivered) and event.auto_release_at:
        _timestamp(view.auto_release_at, event.auto_release_at)
    if isinstance(event, m.EscrowTransferFailed | m.EscrowRefundFailed) and event.retry_at:
        _timestamp(view.payout_retry_at, event.retry_at)
    elif isinstance(event, _PAYOUT_MOVES):
        view.ClearField("payout_retry_at")
    status = int(view.status)
    if status != EscrowStatus.AWAIT_FUNDS:
        view.ClearField("funding_deadline")
    if status != EscrowStatus.DELIVERED:
        view.ClearField("auto_release_at")


_PAYOUT_MOVES = (
    m.EscrowTransferRequested,
    m.EscrowRefundRequested,
    m.EscrowTransferFailed,
    m.EscrowRefundFailed,
)


def _record_outcome(view: EscrowView, event: Any, issuer: Actor) -> None:
    command_id = event.meta.causation_id
    if any(o.command_id == command_id for o in view.commands):
        return  # one command, several events (CreateEscrow)
    rejected = isinstance(event, m.EscrowCommandRejected)
    view.commands.add(
        command_id=command_id,
        status=CommandStatus.COMMAND_STATUS_REJECTED
        if rejected
        else CommandStatus.COMMAND_STATUS_APPLIED,
        reason=event.reason if rejected else "",
        detail=event.detail if rejected else "",
        issuer_user_id=issuer.user_id,
    )
    del view.commands[:-COMMANDS_KEPT]


def _created(view: EscrowView, event: m.EscrowCreated) -> None:
    view.contract_id, view.buyer_id, view.seller_id = (
        event.contract_id,
        event.buyer_id,
        event.seller_id,
    )
    _money(view.amount, event.amount)
    view.rail = int(event.rail)  # type: ignore[assignment]  # the same numbers
    _timestamp(view.created_at, event.meta.occurred_at)


def _disputed(view: EscrowView, event: m.EscrowDisputed) -> None:
    fill(view.dispute.raised_by, event.raised_by)
    view.dispute.reason = event.reason


def _payout_requested(view: EscrowView, event: Any) -> None:
    if event.resolution:
        view.dispute.resolution = int(event.resolution)  # type: ignore[assignment]


def _payment_intent_created(view: EscrowView, event: m.PaymentIntentCreated) -> None:
    view.payment.provider_payment_id = event.provider_payment_id
    view.payment.client_secret = event.client_secret
    view.payment.deposit_address = event.deposit_address


def _released(view: EscrowView, event: m.EscrowReleased) -> None:
    view.transfer_id, view.payout_submitted_id = event.transfer_id, ""


def _refunded(view: EscrowView, event: m.EscrowRefunded) -> None:
    view.refund_id, view.payout_submitted_id = event.refund_id, ""


def _payout_failed(view: EscrowView, event: Any) -> None:
    view.payout_submitted_id = ""


def _payment_returned(view: EscrowView, event: m.EscrowPaymentReturned) -> None:
    _new_return(view, event).status = ReturnStatus.RETURN_STATUS_REQUESTED


def _new_return(view: EscrowView, event: m.EscrowPaymentReturned | m.PaymentReturned) -> Any:
    """A new entry at the end of the view's bounded list of returns."""
    entry = view.returns.add(provider_payment_id=event.provider_payment_id, reason=event.reason)
    _money(entry.amount, event.amount)
    del view.returns[:-RETURNS_KEPT]
    return view.returns[-1]


def _return_outcome(view: EscrowView, event: m.PaymentReturned) -> None:
    """The provider's answer to a return: the newest requested return of that payment."""
    requested = [
        r
        for r in view.returns
        if r.provider_payment_id == event.provider_payment_id
        and r.status == ReturnStatus.RETURN_STATUS_REQUESTED
    ]
    entry = requested[-1] if requested else None
    if entry is None:  # the provider's report of a return we no longer list
        entry = _new_return(view, event)
    entry.return_id, entry.failure_code = event.return_id, event.failure_code
    failed = bool(event.failure_code)
    entry.status = (
        ReturnStatus.RETURN_STATUS_FAILED if failed else ReturnStatus.RETURN_STATUS_RETURNED
    )


def _under_review(view: EscrowView, event: m.EscrowPaymentUnderReview) -> None:
    view.review.Clear()
    view.review.status = ReviewStatus.REVIEW_STATUS_PENDING
    view.review.provider_payment_id = event.provider_payment_id
    _money(view.review.amount, event.amount)
    view.review.risk_score = event.risk_score
    view.review.payer_wallet_address = event.payer_wallet_address
    _timestamp(view.review.held_at, event.meta.occurred_at)


def _reviewed(view: EscrowView, event: m.EscrowReviewApproved | m.EscrowReviewRejected) -> None:
    approved = isinstance(event, m.EscrowReviewApproved)
    view.review.status = (
        ReviewStatus.REVIEW_STATUS_APPROVED if approved else ReviewStatus.REVIEW_STATUS_REJECTED
    )
    view.review.decided_by_user_id, view.review.note = event.reviewed_by.user_id, event.note


def _cancelled(view: EscrowView, event: m.EscrowCancelled) -> None:
    if view.review.status == ReviewStatus.REVIEW_STATUS_PENDING:
        view.review.status = ReviewStatus.REVIEW_STATUS_WITHDRAWN


def _chargeback_opened(view: EscrowView, event: m.EscrowChargebackOpened) -> None:
    entry = view.chargebacks.add(dispute_id=event.dispute_id, reason=event.reason, status="open")
    _money(entry.amount, event.amount)


def _chargeback_closed(view: EscrowView, event: m.EscrowChargebackClosed) -> None:
    for entry in view.chargebacks:
        if entry.dispute_id == event.dispute_id:
            entry.status = event.status


def _transfer_reversed(view: EscrowView, event: m.EscrowTransferReversed) -> None:
    view.transfer_reversed.currency = event.amount.currency
    view.transfer_reversed.amount_cents += event.amount.amount_cents


_DETAILS: dict[type, Callable[[EscrowView, Any], None]] = {
    m.EscrowChargebackOpened: _chargeback_opened,
    m.EscrowChargebackClosed: _chargeback_closed,
    m.EscrowTransferReversed: _transfer_reversed,
    m.EscrowPaymentUnderReview: _under_review,
    m.EscrowReviewApproved: _reviewed,
    m.EscrowReviewRejected: _reviewed,
    m.EscrowCancelled: _cancelled,
    m.EscrowCreated: _created,
    m.EscrowDisputed: _disputed,
    m.EscrowTransferRequested: _payout_requested,
    m.EscrowRefundRequested: _payout_requested,
    m.EscrowTransferSubmitted: lambda view, e: setattr(view, "payout_submitted_id", e.transfer_id),
    m.EscrowRefundSubmitted: lambda view, e: setattr(view, "payout_submitted_id", e.refund_id),
    m.EscrowTransferFailed: _payout_failed,
    m.EscrowRefundFailed: _payout_failed,
    m.EscrowReleased: _released,
    m.EscrowRefunded: _refunded,
    m.EscrowPaymentReturned: _payment_returned,
}
_PAYMENT_EVENTS = typing.get_args(m.PaymentEvent)
# Payment events add what escrow events do not carry; the others are reflected by escrow events.
_PAYMENT_DETAILS: dict[type, Callable[[EscrowView, Any], None]] = {
    m.PaymentIntentCreated: _payment_intent_created,
    m.PaymentReturned: _return_outcome,
}


def _nothing(view: EscrowView, event: Any) -> None:
    pass


def _timestamp(target: Any, moment: datetime) -> None:
    target.FromDatetime(moment)


def _money(target: Message, money: Money) -> None:
    fill(target, money)
