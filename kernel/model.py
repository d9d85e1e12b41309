"""The escrow aggregate and its value types (DESIGN.md §4). Pure: no I/O, no Kafka, no protobuf.

Enums carry the numbers of their protobuf twins (schemas/), so mapping is by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum


class EscrowStatus(IntEnum):
    AWAIT_FUNDS = 1
    FUNDS_HELD = 2
    DELIVERED = 3
    DISPUTED = 4
    RELEASED = 5
    REFUNDED = 6
    CANCELLED = 7


TERMINAL = frozenset({EscrowStatus.RELEASED, EscrowStatus.REFUNDED, EscrowStatus.CANCELLED})


class Rail(IntEnum):
    STRIPE = 1
    USDC_BASE = 2


class KycTier(IntEnum):
    UNSPECIFIED = 0
    TIER_0 = 1
    TIER_1 = 2
    TIER_2 = 3


class Role(IntEnum):
    UNSPECIFIED = 0
    USER = 1
    ADMIN = 2
    SYSTEM = 3


class Reason(StrEnum):
    """Machine-readable reasons of EscrowCommandRejected (DESIGN.md §4)."""

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
    NO_REVIEW_PENDING = "NO_REVIEW_PENDING"
    NO_FAILED_PAYOUT = "NO_FAILED_PAYOUT"


class DisputeResolution(IntEnum):
    UNSPECIFIED = 0
    FAVOR_SELLER = 1
    FAVOR_BUYER = 2


# Seeds, "Routing Logic": amount <= $10,000.00 -> Stripe, above -> USDC on Base.
STRIPE_MAX_CENTS = 1_000_000
CURRENCY = "USD"
MIN_KYC_TIER = KycTier.TIER_1
# Failed payment attempts after which an unfunded escrow is cancelled.
MAX_PAYMENT_FAILURES = 3
# How many applied command/event ids an escrow remembers for idempotency. Clients retry within
# seconds to minutes; 64 ids is far more than one escrow's lifetime of commands.
PROCESSED_IDS_KEPT = 64


@dataclass(frozen=True)
class Money:
    """An amount in minor units (cents) of an ISO 4217 currency."""

    amount_cents: int
    currency: str


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: Role


SYSTEM = Actor("escrow-topology", Role.SYSTEM)


def route(amount: Money) -> Rail:
    return Rail.STRIPE if amount.amount_cents <= STRIPE_MAX_CENTS else Rail.USDC_BASE


@dataclass(frozen=True)
class Escrow:
    """One escrow as the escrow topology's state store holds it (schemas: escrow.v1.EscrowState)."""

    escrow_id: str
    contract_id: str
    status: EscrowStatus
    buyer_id: str
    seller_id: str
    amount: Money
    rail: Rail
    seller_stripe_account_id: str
    seller_wallet_address: str
    version: int
    created_at: datetime
    updated_at: datetime
    provider_payment_id: str = ""
    # The outstanding TransferToSeller / InitiateRefund command id; at most one is set.
    pending_transfer_command_id: str = ""
    pending_refund_command_id: str = ""
    payment_failures: int = 0
    transfer_failures: int = 0
    refund_failures: int = 0
    delivered_at: datetime | None = None
    processed_ids: tuple[str, ...] = ()
    # A deposit (provider_payment_id) waits for an admin's review.
    payment_under_review: bool = False
    # The payout that failed last and was not asked for again: "transfer", "refund" or "".
    payout_to_retry: str = ""
    # The deadlines set when the clocks started (EscrowAwaitFunds, EscrowDelivered); None for
    # escrows from before deadlines were recorded.
    funding_deadline: datetime | None = None
    auto_release_at: datetime | None = None
    # The provider's ids of the failed payment attempts counted (bounded by the policy's maximum).
    failed_attempt_ids: tuple[str, ...] = ()

    @property
    def payout_pending(self) -> bool:
        return bool(self.pending_transfer_command_id or self.pending_refund_command_id)


@dataclass(frozen=True)
class Policy:
    """The platform's clocks, given to ``decide``; the defaults are the seeds'.

    - ``funding_timeout``: an escrow still unfunded this long after creation is cancelled by the
      scheduler (seeds: 003 §4.15, 72 h).
    - ``auto_release_after``: a delivered escrow the buyer neither released nor disputed this long
      after delivery is released to the seller (seeds: 003 §4.15, 7 days).
    - ``payout_retry_initial`` .. ``payout_retry_max``: the delay before the scheduler retries a
      failed transfer/refund, doubling per failure (seeds: 000 "Retry Configuration",
      multiplier 2), capped.
    - ``max_payout_failures``: failures after which no retry is scheduled and operators are alerted
      (seeds: 000 "Max Retries: 5"; then "Alert admin").
    """

    funding_timeout: timedelta = timedelta(hours=72)
    auto_release_after: timedelta = timedelta(days=7)
    payout_retry_initial: timedelta = timedelta(minutes=1)
    payout_retry_max: timedelta = timedelta(hours=1)
    max_payout_failures: int = 5

    def payout_retry_at(self, failed_at: datetime, failures: int) -> datetime | None:
        """When the ``failures``-th failed payout (1-based) is retried; None once they are
        exhausted."""
        if failures >= self.max_payout_failures:
            return None
        delay: timedelta = min(
            self.payout_retry_initial * 2 ** (failures - 1), self.payout_retry_max
        )
        return failed_at + delay


DEFAULT_POLICY = Policy()
