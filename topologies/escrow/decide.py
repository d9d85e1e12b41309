"""``decide(state, message, now) -> Decision``: the escrow state machine (DESIGN.md §4).

Pure: no clock (``now`` is an argument), no randomness (ids derive from their cause), no I/O.
Each message type has a handler in ``_HANDLERS``. Guards run in the seeds' order ("State Machine
Guards"): the escrow exists, the actor is allowed, the message was not already processed
(idempotency), the expected version matches, the state allows it; then the command's own rules.
A refusal is a value: the decision carries an ``EscrowCommandRejected`` event and changes nothing
else. The new state is the old one with the emitted events folded in through ``evolve``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from topologies.escrow.evolve import fold
from topologies.escrow.messages import (
    CancelEscrow,
    CommandMeta,
    CreateEscrow,
    CreatePaymentIntent,
    EscrowAwaitFunds,
    EscrowCancelled,
    EscrowCommandRejected,
    EscrowCreated,
    EscrowDelivered,
    EscrowDisputed,
    EscrowEvent,
    EscrowFundsHeld,
    EscrowPaymentFailed,
    EscrowPaymentIntentRecorded,
    EscrowRefunded,
    EscrowRefundFailed,
    EscrowRefundRequested,
    EscrowReleased,
    EscrowTransferFailed,
    EscrowTransferRequested,
    EventMeta,
    InitiateRefund,
    MarkDelivered,
    Message,
    PaymentCommand,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentIntentCreated,
    PaymentSucceeded,
    RaiseDispute,
    RefundFailed,
    RefundSucceeded,
    ReleaseFunds,
    ResolveDispute,
    TransferFailed,
    TransferSucceeded,
    TransferToSeller,
)
from topologies.escrow.model import (
    AUTO_RELEASE_AFTER,
    CURRENCY,
    FUNDING_TIMEOUT,
    MAX_PAYMENT_FAILURES,
    MIN_KYC_TIER,
    SYSTEM,
    TERMINAL,
    Actor,
    DisputeResolution,
    Escrow,
    EscrowStatus,
    Rail,
    Role,
    route,
)

S = EscrowStatus
# Namespace of every derived id: uuid5(namespace, "escrow_id/Type/cause_id").
ID_NAMESPACE = uuid.UUID("6f1c2e58-58a5-4b8e-9a43-2f7c9d0f3b11")


class Reason(StrEnum):
    """Machine-readable reasons of EscrowCommandRejected."""

    ESCROW_NOT_FOUND = "ESCROW_NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    NOT_SELLER = "NOT_SELLER"
    NOT_BUYER = "NOT_BUYER"
    NOT_PARTY = "NOT_PARTY"
    NOT_ADMIN = "NOT_ADMIN"
    NOT_SELLER_OR_ADMIN = "NOT_SELLER_OR_ADMIN"
    VERSION_MISMATCH = "VERSION_MISMATCH"
    INVALID_STATE = "INVALID_STATE"
    PAYOUT_PENDING = "PAYOUT_PENDING"
    TIMEOUT_NOT_REACHED = "TIMEOUT_NOT_REACHED"
    SAME_PARTIES = "SAME_PARTIES"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    KYC_TIER_TOO_LOW = "KYC_TIER_TOO_LOW"
    MISSING_PAYOUT_ACCOUNT = "MISSING_PAYOUT_ACCOUNT"
    REASON_REQUIRED = "REASON_REQUIRED"
    INVALID_RESOLUTION = "INVALID_RESOLUTION"
    PAYMENT_MISMATCH = "PAYMENT_MISMATCH"
    PAYOUT_MISMATCH = "PAYOUT_MISMATCH"


@dataclass(frozen=True)
class Rejection:
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Decision:
    """What a message does: the state after it, the events and payment commands to emit, and
    the refusal if a guard refused it (then ``events`` is the one EscrowCommandRejected)."""

    state: Escrow | None
    events: tuple[EscrowEvent, ...] = ()
    payment_commands: tuple[PaymentCommand, ...] = ()
    rejection: Rejection | None = None


# An event without its meta: decide fills in id, version and causation.
Draft = Callable[..., EscrowEvent]
Outcome = Rejection | tuple[Sequence[Draft], Sequence[PaymentCommand]]


def decide(state: Escrow | None, message: Message, now: datetime) -> Decision:
    """Applies one command or payment event to an escrow (None: not created yet).

    Implements the transition table of DESIGN.md §4 (seeds: State Machine quick reference,
    sprint tasks 4.5-4.14). Never raises for business refusals; see ``Reason``.
    """
    return _HANDLERS[type(message)](state, message, now)


def derive_id(escrow_id: str, kind: str, cause_id: str) -> str:
    """A deterministic id: the same cause always yields the same id (safe reprocessing)."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{escrow_id}/{kind}/{cause_id}"))


# --- commands -------------------------------------------------------------------------------


def _create_escrow(state: Escrow | None, cmd: CreateEscrow, now: datetime) -> Decision:
    if state is not None:
        if cmd.meta.command_id in state.processed_ids:
            return Decision(state)
        return _reject(state, cmd, now, Reason.ALREADY_EXISTS, "the escrow exists already")
    outcome = _check_create(cmd)
    if isinstance(outcome, Rejection):
        return _reject(None, cmd, now, outcome.reason, outcome.detail)
    rail = route(cmd.amount)
    created = partial(
        EscrowCreated,
        contract_id=cmd.contract_id,
        buyer_id=cmd.buyer_id,
        seller_id=cmd.seller_id,
        amount=cmd.amount,
        rail=rail,
        seller_stripe_account_id=cmd.seller_stripe_account_id,
        seller_wallet_address=cmd.seller_wallet_address,
        created_by=cmd.meta.actor,
    )
    awaiting = partial(EscrowAwaitFunds, amount=cmd.amount, rail=rail)
    intent = CreatePaymentIntent(
        _payment_meta(
            cmd.meta.escrow_id,
            "CreatePaymentIntent",
            cmd.meta.command_id,
            cmd.meta.correlation_id,
            now,
        ),
        amount=cmd.amount,
        rail=rail,
        buyer_id=cmd.buyer_id,
        seller_id=cmd.seller_id,
        contract_id=cmd.contract_id,
    )
    return _apply(None, cmd, now, ([created, awaiting], [intent]))


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
        return Rejection(
            Reason.MISSING_PAYOUT_ACCOUNT, f"the {rail.name} rail needs the seller's payout account"
        )
    return None


@dataclass(frozen=True)
class _Rule:
    """Who may send a command, in which states, and what it then does."""

    roles: frozenset[str]
    refusal: Reason
    states: frozenset[EscrowStatus]
    then: Callable[[Escrow, Any, datetime], Outcome]


def _command(rule: _Rule) -> Callable[[Escrow | None, Any, datetime], Decision]:
    def handle(state: Escrow | None, cmd: Any, now: datetime) -> Decision:
        meta: CommandMeta = cmd.meta
        if state is None:
            return _reject(None, cmd, now, Reason.ESCROW_NOT_FOUND, "no such escrow")
        role = state.role_of(meta.actor)
        if role not in rule.roles:
            return _reject(state, cmd, now, rule.refusal, f"a {role} may not do this")
        if meta.command_id in state.processed_ids:
            return Decision(state)
        if meta.expected_version is not None and meta.expected_version != state.version:
            detail = f"expected version {meta.expected_version}, the escrow is at {state.version}"
            return _reject(state, cmd, now, Reason.VERSION_MISMATCH, detail)
        if state.status not in rule.states:
            return _reject(
                state, cmd, now, Reason.INVALID_STATE, f"not allowed in {state.status.name}"
            )
        if state.payout_pending:
            return _reject(
                state, cmd, now, Reason.PAYOUT_PENDING, "a transfer or refund is under way"
            )
        outcome = rule.then(state, cmd, now)
        if isinstance(outcome, Rejection):
            return _reject(state, cmd, now, outcome.reason, outcome.detail)
        return _apply(state, cmd, now, outcome)

    return handle


def _mark_delivered(state: Escrow, cmd: MarkDelivered, now: datetime) -> Outcome:
    return [partial(EscrowDelivered, delivered_by=cmd.meta.actor, note=cmd.note)], []


def _release_funds(state: Escrow, cmd: ReleaseFunds, now: datetime) -> Outcome:
    if cmd.meta.actor.role is Role.SYSTEM and not _elapsed(
        state.delivered_at, AUTO_RELEASE_AFTER, now
    ):
        return Rejection(Reason.TIMEOUT_NOT_REACHED, "auto-release comes 7 days after delivery")
    return _transfer(state, cmd.meta, now, DisputeResolution.UNSPECIFIED)


def _cancel_escrow(state: Escrow, cmd: CancelEscrow, now: datetime) -> Outcome:
    role = state.role_of(cmd.meta.actor)
    if state.status is S.AWAIT_FUNDS:
        if role == "system" and not _elapsed(state.created_at, FUNDING_TIMEOUT, now):
            return Rejection(Reason.TIMEOUT_NOT_REACHED, "unfunded escrows time out after 72 h")
        return [partial(EscrowCancelled, cancelled_by=cmd.meta.actor, reason=cmd.reason)], []
    # FUNDS_HELD: cancelling means refunding the buyer before delivery.
    if role not in ("seller", "admin"):
        return Rejection(
            Reason.NOT_SELLER_OR_ADMIN, "once funded, only the seller or an admin may cancel"
        )
    if not cmd.reason.strip():
        return Rejection(Reason.REASON_REQUIRED, "cancelling a funded escrow needs a reason")
    return _refund(state, cmd.meta, now, cmd.reason, DisputeResolution.UNSPECIFIED)


def _raise_dispute(state: Escrow, cmd: RaiseDispute, now: datetime) -> Outcome:
    if state.status is S.DELIVERED and state.role_of(cmd.meta.actor) != "buyer":
        return Rejection(Reason.NOT_BUYER, "after delivery only the buyer may dispute")
    return [partial(EscrowDisputed, raised_by=cmd.meta.actor, reason=cmd.reason)], []


def _resolve_dispute(state: Escrow, cmd: ResolveDispute, now: datetime) -> Outcome:
    if cmd.resolution is DisputeResolution.FAVOR_SELLER:
        return _transfer(state, cmd.meta, now, cmd.resolution)
    if cmd.resolution is DisputeResolution.FAVOR_BUYER:
        return _refund(
            state, cmd.meta, now, cmd.note or "dispute resolved for the buyer", cmd.resolution
        )
    return Rejection(Reason.INVALID_RESOLUTION, "resolution must favour the seller or the buyer")


def _transfer(
    state: Escrow, meta: CommandMeta, now: datetime, resolution: DisputeResolution
) -> Outcome:
    command = TransferToSeller(
        _payment_meta(
            state.escrow_id, "TransferToSeller", meta.command_id, meta.correlation_id, now
        ),
        amount=state.amount,
        rail=state.rail,
        provider_payment_id=state.provider_payment_id,
        seller_stripe_account_id=state.seller_stripe_account_id,
        seller_wallet_address=state.seller_wallet_address,
    )
    requested = partial(
        EscrowTransferRequested,
        payment_command_id=command.meta.command_id,
        amount=state.amount,
        requested_by=meta.actor,
        resolution=resolution,
    )
    return [requested], [command]


def _refund(
    state: Escrow, meta: CommandMeta, now: datetime, reason: str, resolution: DisputeResolution
) -> Outcome:
    command = InitiateRefund(
        _payment_meta(state.escrow_id, "InitiateRefund", meta.command_id, meta.correlation_id, now),
        amount=state.amount,
        rail=state.rail,
        provider_payment_id=state.provider_payment_id,
        reason=reason,
    )
    requested = partial(
        EscrowRefundRequested,
        payment_command_id=command.meta.command_id,
        amount=state.amount,
        requested_by=meta.actor,
        reason=reason,
        resolution=resolution,
    )
    return [requested], [command]


def _elapsed(since: datetime | None, period: timedelta, now: datetime) -> bool:
    return since is not None and now - since >= period


# --- payment events -------------------------------------------------------------------------


def _payment_event(
    states: frozenset[EscrowStatus], then: Callable[[Escrow, Any, datetime], Outcome]
) -> Callable[[Escrow | None, Any, datetime], Decision]:
    def handle(state: Escrow | None, event: Any, now: datetime) -> Decision:
        meta: EventMeta = event.meta
        if state is None:
            return _reject(None, event, now, Reason.ESCROW_NOT_FOUND, "no such escrow")
        if meta.event_id in state.processed_ids:
            return Decision(state)
        if state.status not in states:
            return _reject(
                state, event, now, Reason.INVALID_STATE, f"not expected in {state.status.name}"
            )
        outcome = then(state, event, now)
        if isinstance(outcome, Rejection):
            return _reject(state, event, now, outcome.reason, outcome.detail)
        return _apply(state, event, now, outcome)

    return handle


def _payment_intent_created(state: Escrow, event: PaymentIntentCreated, now: datetime) -> Outcome:
    if state.provider_payment_id and state.provider_payment_id != event.provider_payment_id:
        return Rejection(Reason.PAYMENT_MISMATCH, f"payment {state.provider_payment_id} exists")
    return [partial(EscrowPaymentIntentRecorded, provider_payment_id=event.provider_payment_id)], []


def _payment_succeeded(state: Escrow, event: PaymentSucceeded, now: datetime) -> Outcome:
    if event.provider_payment_id != state.provider_payment_id or event.amount != state.amount:
        detail = (
            f"got {event.provider_payment_id} for {event.amount}, expected "
            f"{state.provider_payment_id or '(none yet)'} for {state.amount}"
        )
        return Rejection(Reason.PAYMENT_MISMATCH, detail)
    held = partial(
        EscrowFundsHeld, provider_payment_id=event.provider_payment_id, amount=event.amount
    )
    return [held], []


def _payment_failed(state: Escrow, event: PaymentFailed, now: datetime) -> Outcome:
    attempts = state.payment_failures + 1
    drafts: list[Draft] = [
        partial(
            EscrowPaymentFailed,
            provider_payment_id=event.provider_payment_id,
            failure_code=event.failure_code,
            attempts=attempts,
        )
    ]
    if attempts >= MAX_PAYMENT_FAILURES:
        reason = f"payment failed {attempts} times (last: {event.failure_code})"
        drafts.append(partial(EscrowCancelled, cancelled_by=SYSTEM, reason=reason))
    return drafts, []


def _held_for_review(state: Escrow, event: PaymentHeldForReview, now: datetime) -> Outcome:
    return [], []  # stays AWAIT_FUNDS until an operator clears (PaymentSucceeded) or returns it


def _payout_outcome(
    pending: Callable[[Escrow], str], draft: Callable[[Escrow, Any], Draft]
) -> Callable[[Escrow, Any, datetime], Outcome]:
    def then(state: Escrow, event: Any, now: datetime) -> Outcome:
        if not pending(state) or pending(state) != event.meta.causation_id:
            detail = (
                f"{event.meta.causation_id} is not the pending payout ({pending(state) or 'none'})"
            )
            return Rejection(Reason.PAYOUT_MISMATCH, detail)
        return [draft(state, event)], []

    return then


def _pending_transfer(state: Escrow) -> str:
    return state.pending_transfer_command_id


def _pending_refund(state: Escrow) -> str:
    return state.pending_refund_command_id


_ANY_LIVE = frozenset(set(EscrowStatus) - TERMINAL)

_HANDLERS: dict[type, Callable[[Escrow | None, Any, datetime], Decision]] = {
    CreateEscrow: _create_escrow,
    MarkDelivered: _command(
        _Rule(frozenset({"seller"}), Reason.NOT_SELLER, frozenset({S.FUNDS_HELD}), _mark_delivered)
    ),
    ReleaseFunds: _command(
        _Rule(
            frozenset({"buyer", "system"}),
            Reason.NOT_BUYER,
            frozenset({S.DELIVERED}),
            _release_funds,
        )
    ),
    CancelEscrow: _command(
        _Rule(
            frozenset({"buyer", "seller", "admin", "system"}),
            Reason.NOT_PARTY,
            frozenset({S.AWAIT_FUNDS, S.FUNDS_HELD}),
            _cancel_escrow,
        )
    ),
    RaiseDispute: _command(
        _Rule(
            frozenset({"buyer", "seller"}),
            Reason.NOT_PARTY,
            frozenset({S.FUNDS_HELD, S.DELIVERED}),
            _raise_dispute,
        )
    ),
    ResolveDispute: _command(
        _Rule(frozenset({"admin"}), Reason.NOT_ADMIN, frozenset({S.DISPUTED}), _resolve_dispute)
    ),
    PaymentIntentCreated: _payment_event(frozenset({S.AWAIT_FUNDS}), _payment_intent_created),
    PaymentSucceeded: _payment_event(frozenset({S.AWAIT_FUNDS}), _payment_succeeded),
    PaymentFailed: _payment_event(frozenset({S.AWAIT_FUNDS}), _payment_failed),
    PaymentHeldForReview: _payment_event(frozenset({S.AWAIT_FUNDS}), _held_for_review),
    TransferSucceeded: _payment_event(
        _ANY_LIVE,
        _payout_outcome(
            _pending_transfer,
            lambda s, e: partial(EscrowReleased, transfer_id=e.transfer_id, amount=e.amount),
        ),
    ),
    TransferFailed: _payment_event(
        _ANY_LIVE,
        _payout_outcome(
            _pending_transfer,
            lambda s, e: partial(
                EscrowTransferFailed,
                payment_command_id=s.pending_transfer_command_id,
                failure_code=e.failure_code,
                attempts=s.transfer_failures + 1,
            ),
        ),
    ),
    RefundSucceeded: _payment_event(
        _ANY_LIVE,
        _payout_outcome(
            _pending_refund,
            lambda s, e: partial(EscrowRefunded, refund_id=e.refund_id, amount=e.amount),
        ),
    ),
    RefundFailed: _payment_event(
        _ANY_LIVE,
        _payout_outcome(
            _pending_refund,
            lambda s, e: partial(
                EscrowRefundFailed,
                payment_command_id=s.pending_refund_command_id,
                failure_code=e.failure_code,
                attempts=s.refund_failures + 1,
            ),
        ),
    ),
}


# --- building decisions ---------------------------------------------------------------------


def _message_id(message: Message) -> str:
    meta = message.meta
    return meta.command_id if isinstance(meta, CommandMeta) else meta.event_id


def _correlation_id(message: Message) -> str:
    return message.meta.correlation_id


def _escrow_id(message: Message) -> str:
    return message.meta.escrow_id


def _apply(
    state: Escrow | None,
    message: Message,
    now: datetime,
    outcome: tuple[Sequence[Draft], Sequence[PaymentCommand]],
) -> Decision:
    drafts, payment_commands = outcome
    cause = _message_id(message)
    version = state.version if state else 0
    events = tuple(
        draft(meta=_event_meta(message, draft, cause, version + i, now))
        for i, draft in enumerate(drafts, start=1)
    )
    return Decision(fold(events, state), events, tuple(payment_commands))


def _event_meta(
    message: Message, draft: Draft, cause: str, version: int, now: datetime
) -> EventMeta:
    kind = draft.func.__name__ if isinstance(draft, partial) else draft.__name__
    escrow_id = _escrow_id(message)
    return EventMeta(
        derive_id(escrow_id, kind, cause), escrow_id, now, version, cause, _correlation_id(message)
    )


def _reject(
    state: Escrow | None, message: Message, now: datetime, reason: Reason, detail: str
) -> Decision:
    cause = _message_id(message)
    escrow_id = _escrow_id(message)
    meta = EventMeta(
        derive_id(escrow_id, "EscrowCommandRejected", cause),
        escrow_id,
        now,
        state.version if state else 0,
        cause,
        _correlation_id(message),
    )
    actor: Actor = message.meta.actor if isinstance(message.meta, CommandMeta) else SYSTEM
    rejected = EscrowCommandRejected(
        meta, cause, type(message).__name__, reason.value, detail, actor
    )
    new_state = fold([rejected], state) if state else None
    return Decision(new_state, (rejected,), rejection=Rejection(reason, detail))


def _payment_meta(
    escrow_id: str, kind: str, cause: str, correlation_id: str, now: datetime
) -> CommandMeta:
    return CommandMeta(
        derive_id(escrow_id, kind, cause), escrow_id, SYSTEM, now, correlation_id=correlation_id
    )
