"""The escrow state machine's guards (DESIGN.md §4; seeds: "State Machine Guards"): named
checks that each return a ``Rejection`` (or ``Duplicate``), or None to go on, and the admission
every command and payment event passes before its handler in ``decide``. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kernel.messages import (
    ChargebackClosed,
    ChargebackOpened,
    CommandMeta,
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
from kernel.model import TERMINAL, Escrow, EscrowStatus, Reason
from kernel.permissions import PERMISSIONS, Party, Permission, party_of

S = EscrowStatus


@dataclass(frozen=True)
class Rejection:
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Duplicate:
    """The message was processed before: nothing to do."""


def require_party(permission: Permission, party: Party) -> Rejection | None:
    if party not in permission.parties:
        return Rejection(permission.not_allowed, f"a {party} may not do this")
    return None


def require_new(state: Escrow, message_id: str) -> Duplicate | None:
    return Duplicate() if message_id in state.processed_ids else None


def require_version(state: Escrow, expected: int | None) -> Rejection | None:
    if expected is not None and expected != state.version:
        detail = f"expected version {expected}, the escrow is at {state.version}"
        return Rejection(Reason.VERSION_MISMATCH, detail)
    return None


def require_state(state: Escrow, states: frozenset[EscrowStatus], verb: str) -> Rejection | None:
    if state.status not in states:
        return Rejection(Reason.INVALID_STATE, f"not {verb} in {state.status.name}")
    return None


def require_no_payout(state: Escrow) -> Rejection | None:
    if state.payout_pending:
        return Rejection(Reason.PAYOUT_PENDING, "a transfer or refund is under way")
    return None


def require_party_here(permission: Permission, party: Party, status: S) -> Rejection | None:
    if status not in permission.allowed[party]:
        return Rejection(permission.not_here[status], f"a {party} may not do this in {status.name}")
    return None


def require_elapsed(deadline: datetime | None, now: datetime, detail: str) -> Rejection | None:
    if deadline is None or now < deadline:
        return Rejection(Reason.TIMEOUT_NOT_REACHED, detail)
    return None


def require_pending(pending_command_id: str, event: Any) -> Rejection | None:
    """A payout outcome must answer the payout command under way: the one it names, or (an
    answer from before outcomes named theirs) the one that caused it."""
    answered = event.payment_command_id or event.meta.causation_id
    if not pending_command_id or pending_command_id != answered:
        detail = f"{answered} is not the pending payout ({pending_command_id or 'none'})"
        return Rejection(Reason.PAYOUT_MISMATCH, detail)
    return None


def admit_command(state: Escrow, command: Any) -> Rejection | Duplicate | None:
    meta: CommandMeta = command.meta
    permission = PERMISSIONS[type(command)]
    party = party_of(meta.actor, state.buyer_id, state.seller_id)
    return (
        require_party(permission, party)
        or require_new(state, meta.command_id)
        or require_version(state, meta.expected_version)
        or require_state(state, permission.states, "allowed")
        or require_no_payout(state)
        or require_party_here(permission, party, state.status)
    )


_LIVE = frozenset(set(EscrowStatus) - TERMINAL)
# The states each payment event is expected in.
_ANY = frozenset(EscrowStatus)
_EXPECTED: dict[type, frozenset[EscrowStatus]] = {
    # Cancelled before its way to pay existed: it is closed as it arrives.
    PaymentIntentCreated: frozenset({S.AWAIT_FUNDS, S.CANCELLED}),
    # Money can arrive whatever the escrow's state; what it cannot take goes back.
    PaymentSucceeded: _ANY,
    PaymentFailed: frozenset({S.AWAIT_FUNDS}),
    PaymentHeldForReview: _ANY,
    TransferSucceeded: _LIVE,
    TransferFailed: _LIVE,
    RefundSucceeded: _LIVE,
    RefundFailed: _LIVE,
    TransferSubmitted: _LIVE,
    RefundSubmitted: _LIVE,
    # Outcomes of compensations: recorded by the projections, nothing to decide.
    PaymentReturned: _ANY,
    PaymentCancelled: _ANY,
    # What the providers report after the fact is recorded whatever the state.
    ChargebackOpened: _ANY,
    ChargebackClosed: _ANY,
    TransferReversed: _ANY,
}


def admit_event(state: Escrow, event: Any) -> Rejection | Duplicate | None:
    if isinstance(event, _PAYOUT_OUTCOMES) and state.status in TERMINAL:
        # A provider reporting a payout of a finished escrow again (a webhook after the
        # synchronous answer, or two webhook types for one refund): already settled.
        return Duplicate()
    if _funding_payment_again(state, event):
        return Duplicate()
    return (
        require_new(state, event.meta.event_id)
        or require_state(state, _EXPECTED[type(event)], "expected")
        or _require_its_payout(state, event)
    )


def _require_its_payout(state: Escrow, event: Any) -> Rejection | None:
    if isinstance(event, _TRANSFER_OUTCOMES):
        return require_pending(state.pending_transfer_command_id, event)
    if isinstance(event, _REFUND_OUTCOMES):
        return require_pending(state.pending_refund_command_id, event)
    return None


_FUNDED = frozenset({S.FUNDS_HELD, S.DELIVERED, S.DISPUTED, S.RELEASED, S.REFUNDED})


def _funding_payment_again(state: Escrow, event: Any) -> bool:
    """The payment that funded the escrow (or waits for review) reported again under another
    event id: a provider's redelivery, or a webhook that reconciliation recovered arriving late.
    One provider payment id is one payment (a Stripe PaymentIntent succeeds once; a custodian
    deposit address takes one deposit), so it is not a second payment to send back."""
    if not isinstance(event, PaymentSucceeded | PaymentHeldForReview):
        return False
    if event.provider_payment_id != state.provider_payment_id:
        return False
    return state.status in _FUNDED or state.payment_under_review


_TRANSFER_OUTCOMES = (TransferSubmitted, TransferSucceeded, TransferFailed)
_REFUND_OUTCOMES = (RefundSubmitted, RefundSucceeded, RefundFailed)
_PAYOUT_OUTCOMES = _TRANSFER_OUTCOMES + _REFUND_OUTCOMES


def require_review(state: Escrow) -> Rejection | None:
    if not state.payment_under_review:
        return Rejection(Reason.NO_REVIEW_PENDING, "no deposit waits for review")
    return None
