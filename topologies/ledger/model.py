"""The ledger's chart of accounts and its values (DESIGN.md §2 ``ledger.postings.v1``). Pure.

Every escrow has its own set of accounts; every posting also names the rail (STRIPE, USDC_BASE)
the money is on, so "escrow holding" is kept per rail. Amounts are signed integer minor units:
positive = debit, negative = credit; a transaction's postings sum to zero per currency.

| account | side | holds |
| --- | --- | --- |
| ``BUYER_FUNDING`` | credit | every cent payers sent for the escrow: where all the rest came from |
| ``FUNDING_IN_TRANSIT`` | debit | at the provider, neither taken by the escrow nor sent back |
| ``ESCROW_HOLDING`` | debit | taken by the escrow and held (payouts asked for or submitted too) |
| ``SELLER_PAID`` | debit | paid to the seller (final) |
| ``BUYER_REFUNDED`` | debit | refunded to the buyer (final) |
| ``RETURNS_PENDING`` | debit | to go back to its sender; the provider has not confirmed it yet |
| ``RETURNED`` | debit | sent back to its sender (a failed return puts it back in transit) |
| ``CHARGEBACKS`` | debit | taken back by the card network, the chargeback open |
| ``CHARGEBACKS_LOST`` | debit | taken back by the card network for good |
| ``TRANSFERS_REVERSED`` | debit | taken back from the seller after a payout, at the platform |
| ``PLATFORM_FUNDS`` | credit | the platform's own money: what it put in where a chargeback or a \
payout took more than the escrow held (its exposure) |

So at any moment the debit accounts together hold exactly what ``BUYER_FUNDING`` and
``PLATFORM_FUNDS`` put in, and the money of one escrow is in one place: held (less what an open
or lost chargeback took from the hold), or paid to the seller (less what was reversed), or
refunded, or (what the escrow never took) in transit, being returned, or returned. No balance may
cross to the side opposite its account's natural side (invariant 4, ``invariants.py``).

Enums carry the numbers of their protobuf twins in ``schemas/ledger/v1/types.proto``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from kernel.model import EscrowStatus, Money, Rail


class Account(IntEnum):
    BUYER_FUNDING = 1
    FUNDING_IN_TRANSIT = 2
    ESCROW_HOLDING = 3
    SELLER_PAID = 4
    BUYER_REFUNDED = 5
    RETURNS_PENDING = 6
    RETURNED = 7
    CHARGEBACKS = 8
    CHARGEBACKS_LOST = 9
    TRANSFERS_REVERSED = 10
    PLATFORM_FUNDS = 11


# +1: the balance grows with debits; -1: with credits.
NATURAL_SIGN: dict[Account, int] = {account: 1 for account in Account} | {
    Account.BUYER_FUNDING: -1,
    Account.PLATFORM_FUNDS: -1,
}
# Where the escrow's own amount sits once taken; and what the escrow never took.
TAKEN = (Account.ESCROW_HOLDING, Account.SELLER_PAID, Account.BUYER_REFUNDED)
NOT_TAKEN = (Account.FUNDING_IN_TRANSIT, Account.RETURNS_PENDING, Account.RETURNED)
# The statuses in which the escrow holds its amount (invariant 2).
HOLDING_STATUSES = frozenset(
    {EscrowStatus.FUNDS_HELD, EscrowStatus.DELIVERED, EscrowStatus.DISPUTED}
)


class Kind(IntEnum):
    """What a transaction records (``postings.py`` has the rules)."""

    ARRIVAL = 1
    TAKE = 2
    RETURN_REQUESTED = 3
    RETURN_SETTLED = 4
    RETURN_FAILED = 5
    RELEASE = 6
    REFUND = 7
    CHARGEBACK_OPENED = 8
    CHARGEBACK_WON = 9
    CHARGEBACK_LOST = 10
    TRANSFER_REVERSED = 11


class ReturnStatus(IntEnum):
    NONE = 1
    PENDING = 2
    RETURNED = 3
    FAILED = 4


class ChargebackOutcome(IntEnum):
    NONE = 1
    WON = 2  # or an inquiry closed: the money came back
    LOST = 3


@dataclass(frozen=True)
class Cause:
    """The event behind a transaction or a violation."""

    event_id: str
    event_type: str
    occurred_at: datetime
    correlation_id: str = ""


@dataclass(frozen=True)
class Posting:
    account: Account
    rail: Rail
    amount_cents: int  # signed: + debit, - credit
    currency: str


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    kind: Kind
    escrow_id: str
    cause: Cause
    postings: tuple[Posting, ...]
    provider_payment_id: str = ""
    # The provider's payout behind a release (transfer id) or refund (refund / return id).
    provider_object_id: str = ""


@dataclass(frozen=True)
class Balance:
    account: Account
    rail: Rail
    currency: str
    amount_cents: int  # signed: + debit, - credit

    @property
    def natural(self) -> int:
        """The balance on the account's natural side: never below zero in a sound ledger."""
        return self.amount_cents * NATURAL_SIGN[self.account]


@dataclass(frozen=True)
class PaymentRecord:
    """One provider payment (a PaymentIntent, a USDC deposit) whose money arrived."""

    provider_payment_id: str
    amount: Money
    rail: Rail  # the rail it arrived on: its money moves on it
    resolutions: int = 0  # times taken or sent back (invariant 3)
    return_status: ReturnStatus = ReturnStatus.NONE


@dataclass(frozen=True)
class ParkedOutcome:
    """A provider's report on a return that came before the ledger saw the return asked for."""

    provider_payment_id: str
    returned: bool
    cause: Cause


@dataclass(frozen=True)
class ChargebackRecord:
    """One chargeback (a Stripe dispute) on the escrow's payment."""

    dispute_id: str
    amount: Money | None = None  # None: only its closing was reported so far
    on_hold: bool = False  # taken from the hold, which is still open: a win returns it there
    outcome: ChargebackOutcome = ChargebackOutcome.NONE


@dataclass(frozen=True)
class TransferRecord:
    """One payout to the seller, and how much of it was reversed so far (cents)."""

    transfer_id: str
    amount: Money
    reversed_cents: int = 0


@dataclass(frozen=True)
class Ledger:
    """The ledger of one escrow (schemas: ``ledger.v1.LedgerState``)."""

    escrow_id: str
    status: EscrowStatus | None = None
    amount: Money | None = None
    rail: Rail | None = None
    balances: tuple[Balance, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()
    parked: tuple[ParkedOutcome, ...] = ()
    hold_resolutions: int = 0
    seen_event_ids: tuple[str, ...] = ()
    chargebacks: tuple[ChargebackRecord, ...] = ()
    transfers: tuple[TransferRecord, ...] = ()

    def balance(self, account: Account, currency: str | None = None) -> int:
        """The signed balance of ``account`` over every rail (in ``currency``, if given)."""
        return sum(
            b.amount_cents
            for b in self.balances
            if b.account is account and currency in (None, b.currency)
        )

    def payment(self, provider_payment_id: str) -> PaymentRecord | None:
        return next(
            (p for p in self.payments if p.provider_payment_id == provider_payment_id), None
        )

    def chargeback(self, dispute_id: str) -> ChargebackRecord | None:
        return next((c for c in self.chargebacks if c.dispute_id == dispute_id), None)

    def transfer(self, transfer_id: str) -> TransferRecord | None:
        return next((t for t in self.transfers if t.transfer_id == transfer_id), None)

    def taken_from_hold(self, currency: str) -> int:
        """Cents chargebacks took from the open hold and did not give back (open or lost)."""
        return sum(
            c.amount.amount_cents
            for c in self.chargebacks
            if c.on_hold
            and c.amount is not None
            and c.amount.currency == currency
            and c.outcome is not ChargebackOutcome.WON
        )
