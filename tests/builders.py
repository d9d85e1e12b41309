"""Builders of test data. Ids are random so that test runs can share one broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from kernel.messages import (
    CancelEscrow,
    CommandMeta,
    CreateEscrow,
    EscrowEvent,
    EventMeta,
    MarkDelivered,
    Message,
    PaymentIntentCreated,
    PaymentSucceeded,
    RaiseDispute,
    RefundSucceeded,
    ReleaseFunds,
    ResolveDispute,
    TransferFailed,
    TransferSucceeded,
)
from kernel.model import (
    DEFAULT_POLICY,
    Actor,
    DisputeResolution,
    Escrow,
    EscrowStatus,
    KycTier,
    Money,
    Policy,
    Rail,
    Role,
)
from topologies.escrow.decide import decide


def random_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def random_escrow_id() -> str:
    return random_id("esc")


def random_topic(name: str = "test") -> str:
    return random_id(f"test.{name}")


# --- escrow domain messages -----------------------------------------------------------------
# Defaults describe one Stripe-rail trade of $5,000.00 between BUYER and SELLER.

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BUYER = Actor("buyer-1", Role.USER)
SELLER = Actor("seller-1", Role.USER)
ADMIN = Actor("admin-1", Role.ADMIN)
STRANGER = Actor("stranger-1", Role.USER)
SCHEDULER = Actor("scheduler", Role.SYSTEM)
AMOUNT = Money(500_000, "USD")
PAYMENT_ID = "pi_test_1"


def command_meta(
    escrow_id: str = "esc-1",
    actor: Actor = BUYER,
    command_id: str | None = None,
    expected_version: int | None = None,
) -> CommandMeta:
    return CommandMeta(
        command_id or random_id("cmd"), escrow_id, actor, NOW, expected_version, "corr-1"
    )


def create_escrow(
    escrow_id: str = "esc-1", amount: Money = AMOUNT, actor: Actor = SCHEDULER, **fields: Any
) -> CreateEscrow:
    values: dict[str, Any] = {
        "contract_id": f"contract-of-{escrow_id}",
        "buyer_id": BUYER.user_id,
        "seller_id": SELLER.user_id,
        "amount": amount,
        "buyer_kyc_tier": KycTier.TIER_1,
        "seller_kyc_tier": KycTier.TIER_2,
        "seller_stripe_account_id": "acct_seller_1",
        "seller_wallet_address": "0x5e11e7000000000000000000000000000000beef",
    }
    return CreateEscrow(command_meta(escrow_id, actor), **{**values, **fields})


def payment_meta(escrow_id: str = "esc-1", causation_id: str = "") -> EventMeta:
    return EventMeta(random_id("pay-evt"), escrow_id, NOW, 0, causation_id, "corr-1")


def payment_intent_created(
    escrow_id: str = "esc-1", payment_id: str = PAYMENT_ID
) -> PaymentIntentCreated:
    return PaymentIntentCreated(
        payment_meta(escrow_id),
        Rail.STRIPE,
        payment_id,
        AMOUNT,
        client_secret="pi_secret",  # noqa: S106 - a test value
    )


def payment_succeeded(
    escrow_id: str = "esc-1", payment_id: str = PAYMENT_ID, amount: Money = AMOUNT
) -> PaymentSucceeded:
    return PaymentSucceeded(payment_meta(escrow_id), payment_id, amount)


def apply_all(messages: Iterable[Message], state: Escrow | None = None) -> Escrow:
    """Runs ``messages`` through ``decide``; fails if any is refused."""
    for message in messages:
        decision = decide(state, message, NOW)
        assert decision.rejection is None, (message, decision.rejection)
        state = decision.state
    assert state is not None
    return state


def story_events(messages: Iterable[Message], policy: Policy = DEFAULT_POLICY) -> list[EscrowEvent]:
    """The escrow events ``decide`` emits for ``messages`` in order, under ``policy``; a
    ``TransferFailed`` answers the transfer pending at that point (its causation filled in)."""
    state: Escrow | None = None
    events: list[EscrowEvent] = []
    for message in messages:
        if isinstance(message, TransferFailed) and state is not None:
            pending = state.pending_transfer_command_id
            message = replace(message, meta=payment_meta(causation_id=pending))
        decision = decide(state, message, NOW, policy)
        state = decision.state
        events += decision.events
    return events


def escrow_in(status: EscrowStatus, escrow_id: str = "esc-1") -> Escrow:
    """An escrow driven to ``status`` through the state machine itself (no payout pending)."""
    path: dict[EscrowStatus, list[Callable[[Escrow | None], Message]]] = {
        EscrowStatus.AWAIT_FUNDS: [
            lambda _: create_escrow(escrow_id),
            lambda _: payment_intent_created(escrow_id),
        ],
        EscrowStatus.FUNDS_HELD: [lambda _: payment_succeeded(escrow_id)],
        EscrowStatus.DELIVERED: [lambda _: MarkDelivered(command_meta(escrow_id, SELLER))],
        EscrowStatus.RELEASED: [
            lambda _: ReleaseFunds(command_meta(escrow_id, BUYER)),
            lambda s: TransferSucceeded(payment_meta(escrow_id, _pending(s)), "tr_1", AMOUNT),
        ],
        EscrowStatus.DISPUTED: [lambda _: RaiseDispute(command_meta(escrow_id, BUYER), "no item")],
        EscrowStatus.REFUNDED: [
            lambda _: ResolveDispute(
                command_meta(escrow_id, ADMIN), DisputeResolution.FAVOR_BUYER, "refund"
            ),
            lambda s: RefundSucceeded(payment_meta(escrow_id, _pending(s)), "re_1", AMOUNT),
        ],
        EscrowStatus.CANCELLED: [
            lambda _: CancelEscrow(command_meta(escrow_id, BUYER), "changed mind")
        ],
    }
    before = {
        EscrowStatus.AWAIT_FUNDS: [],
        EscrowStatus.FUNDS_HELD: [EscrowStatus.AWAIT_FUNDS],
        EscrowStatus.DELIVERED: [EscrowStatus.AWAIT_FUNDS, EscrowStatus.FUNDS_HELD],
        EscrowStatus.RELEASED: [
            EscrowStatus.AWAIT_FUNDS,
            EscrowStatus.FUNDS_HELD,
            EscrowStatus.DELIVERED,
        ],
        EscrowStatus.DISPUTED: [EscrowStatus.AWAIT_FUNDS, EscrowStatus.FUNDS_HELD],
        EscrowStatus.REFUNDED: [
            EscrowStatus.AWAIT_FUNDS,
            EscrowStatus.FUNDS_HELD,
            EscrowStatus.DISPUTED,
        ],
        EscrowStatus.CANCELLED: [EscrowStatus.AWAIT_FUNDS],
    }
    state: Escrow | None = None
    for step in [*before[status], status]:
        for build in path[step]:
            state = apply_all([build(state)], state)
    assert state is not None and state.status is status
    return state


def _pending(state: Escrow | None) -> str:
    assert state is not None
    return state.pending_transfer_command_id or state.pending_refund_command_id
