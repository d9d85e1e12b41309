"""Builders of the events the ledger reads, and a driver that feeds them through ``audit``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kernel.messages import (
    EscrowChargebackClosed,
    EscrowChargebackOpened,
    EscrowCreated,
    EscrowDelivered,
    EscrowDisputed,
    EscrowFundsHeld,
    EscrowPaymentReturned,
    EscrowRefunded,
    EscrowReleased,
    EscrowTransferReversed,
    EventMeta,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentReturned,
    PaymentSucceeded,
)
from kernel.model import SYSTEM, Money, Rail
from tests.builders import (
    AMOUNT,
    NOW,
    PAYMENT_ID,
    SCHEDULER,
    SELLER,
    payment_meta,
    random_id,
)
from topologies.ledger.invariants import Violation
from topologies.ledger.model import Account, Ledger, Transaction
from topologies.ledger.postings import Event
from topologies.ledger.step import audit

ESCROW_ID = "esc-1"
STRAY_ID = "pi_stray_1"
DEPOSIT_ID = "dep_1"


def escrow_meta(version: int = 1, escrow_id: str = ESCROW_ID) -> EventMeta:
    return EventMeta(random_id("evt"), escrow_id, NOW, version, random_id("cause"), "corr-1")


def created(amount: Money = AMOUNT, rail: Rail = Rail.STRIPE) -> EscrowCreated:
    return EscrowCreated(
        escrow_meta(),
        contract_id="contract-1",
        buyer_id="buyer-1",
        seller_id=SELLER.user_id,
        amount=amount,
        rail=rail,
        seller_stripe_account_id="acct_seller_1",
        seller_wallet_address="",
        created_by=SCHEDULER,
    )


def funds_held(payment_id: str = PAYMENT_ID, amount: Money = AMOUNT) -> EscrowFundsHeld:
    return EscrowFundsHeld(escrow_meta(), payment_id, amount)


def delivered() -> EscrowDelivered:
    return EscrowDelivered(escrow_meta(), SELLER, "")


def released(amount: Money = AMOUNT) -> EscrowReleased:
    return EscrowReleased(escrow_meta(), "tr_1", amount)


def refunded(amount: Money = AMOUNT) -> EscrowRefunded:
    return EscrowRefunded(escrow_meta(), "re_1", amount)


def chargeback_opened(dispute_id: str = "dp_1", amount: Money = AMOUNT) -> EscrowChargebackOpened:
    return EscrowChargebackOpened(escrow_meta(), dispute_id, amount, "fraudulent")


def chargeback_closed(status: str, dispute_id: str = "dp_1") -> EscrowChargebackClosed:
    return EscrowChargebackClosed(escrow_meta(), dispute_id, status)


def disputed() -> EscrowDisputed:
    return EscrowDisputed(escrow_meta(), SYSTEM, "chargeback dp_1: fraudulent")


def transfer_reversed(total_cents: int, transfer_id: str = "tr_1") -> EscrowTransferReversed:
    return EscrowTransferReversed(escrow_meta(), transfer_id, Money(total_cents, "USD"))


def return_asked(payment_id: str = STRAY_ID, amount: Money = AMOUNT) -> EscrowPaymentReturned:
    return EscrowPaymentReturned(escrow_meta(), "cmd-return-1", payment_id, amount, "cancelled")


def paid(payment_id: str = PAYMENT_ID, amount: Money = AMOUNT) -> PaymentSucceeded:
    return PaymentSucceeded(payment_meta(ESCROW_ID), payment_id, amount)


def held_for_review(payment_id: str = DEPOSIT_ID, amount: Money = AMOUNT) -> PaymentHeldForReview:
    return PaymentHeldForReview(payment_meta(ESCROW_ID), payment_id, amount, "0xpayer", 65)


def deposit_returned(
    payment_id: str = DEPOSIT_ID, code: str = "DEPOSIT_RETURNED_HIGH_RISK"
) -> PaymentFailed:
    return PaymentFailed(payment_meta(ESCROW_ID), payment_id, code, "deposit returned")


def provider_returned(
    payment_id: str = STRAY_ID, failure_code: str = "", amount: Money = AMOUNT
) -> PaymentReturned:
    return PaymentReturned(
        payment_meta(ESCROW_ID), payment_id, "ret_1", amount, "cancelled", failure_code
    )


@dataclass
class Fed:
    """The ledger after each event, and what every event posted and broke."""

    ledger: Ledger
    transactions: list[Transaction] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def balances(self) -> dict[Account, int]:
        """Every non-zero balance, over all rails and currencies."""
        totals = {a: self.ledger.balance(a) for a in Account}
        return {a: amount for a, amount in totals.items() if amount}

    def kinds(self) -> list[str]:
        return [t.kind.name for t in self.transactions]


def feed(events: Iterable[Event], ledger: Ledger | None = None) -> Fed:
    fed = Fed(ledger or Ledger(ESCROW_ID))
    for event in events:
        audited = audit(fed.ledger, event)
        fed.ledger = audited.ledger
        fed.transactions += audited.transactions
        fed.violations += audited.violations
    return fed
