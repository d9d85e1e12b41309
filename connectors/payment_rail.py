"""The port every payment rail implements (DESIGN.md §5): Stripe and the USDC custodian.

Amounts are integer minor units (cents; USDC is accounted in USD cents). Every call that moves
money takes an idempotency key derived from the command that caused it, so repeating a call after a
crash returns the first call's result instead of moving money twice. The read side (the status of a
payment or payout, the provider's records since a time) serves the reconciliation (seeds:
"Reconciliation"; "Error Scenarios: Lost Webhook").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class CreatedPayment:
    """How the buyer pays: a Stripe PaymentIntent (``client_secret`` for Stripe Elements) or a
    custodian deposit address."""

    provider_payment_id: str
    client_secret: str = ""
    deposit_address: str = ""


@dataclass(frozen=True)
class Payout:
    """A transfer or refund the provider accepted: ``settled`` when it is final now (a Stripe
    Transfer), else the provider confirms it later by webhook (an on-chain transfer, a pending
    refund)."""

    provider_id: str
    settled: bool


class Movement(StrEnum):
    """What a provider object does with money."""

    PAYMENT = "payment"  # received for an escrow (a PaymentIntent, a USDC deposit)
    TRANSFER = "transfer"  # paid to the seller
    REFUND = "refund"  # paid back to the buyer, as the escrow decided
    RETURN = "return"  # money the escrow could not take, sent back to its sender


class Status(StrEnum):
    PENDING = "pending"  # nothing final yet: awaiting funds, submitted, requires action
    SUCCEEDED = "succeeded"  # the money moved: a payment received, a payout completed
    FAILED = "failed"
    CANCELED = "canceled"  # closed without money moving


@dataclass(frozen=True)
class ProviderWebhook:
    """The webhook the provider sends about an object in its current status: its event type and
    the event's ``data``, as the provider's API documents them."""

    event_type: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ProviderObject:
    """A payment or payout as the provider records it.

    ``provider_payment_id`` is the payment whose money it moves (itself for a payment);
    ``amount_cents`` is what moved (for a payment: what was received, else what was asked for);
    ``created``: when it was made (a deposit: when it was confirmed); ``payer_address``: the
    wallet a USDC deposit came from; ``webhook``: the provider's webhook for the current status,
    None while it is pending.
    """

    movement: Movement
    provider_id: str
    provider_payment_id: str
    escrow_id: str
    status: Status
    amount_cents: int
    currency: str
    created: datetime
    payer_address: str = ""
    webhook: ProviderWebhook | None = field(default=None, compare=False)


class PaymentRail(Protocol):
    def create_payment(
        self, *, escrow_id: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> CreatedPayment:
        """:raises TransientError | PermanentError:"""
        ...

    def transfer(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        destination: str,
        idempotency_key: str,
    ) -> Payout:
        """Pays the seller (Stripe connected account or wallet).

        :raises TransientError | PermanentError:
        """
        ...

    def refund(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        idempotency_key: str,
    ) -> Payout:
        """Returns the buyer's payment (a refund the escrow decided).

        :raises TransientError | PermanentError:
        """
        ...

    def return_payment(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        reason: str,
        idempotency_key: str,
    ) -> str:
        """Sends money the escrow cannot take back to its sender; returns the provider's refund /
        return id.

        :raises TransientError | PermanentError:
        """
        ...

    def cancel_payment(
        self, *, escrow_id: str, provider_payment_id: str, idempotency_key: str
    ) -> None:
        """Closes the way to pay (cancels the PaymentIntent, closes the deposit address).

        :raises TransientError | PermanentError: e.g. permanent when the payment succeeded
            meanwhile (it is then returned when it arrives).
        """
        ...

    def payment_status(self, provider_payment_id: str) -> ProviderObject:
        """The payment as the provider sees it now (Stripe: the PaymentIntent; custodian: the
        deposit address and its confirmed deposit, ``from_address`` in the webhook data).

        :raises TransientError | PermanentError: permanent (``code`` "404" / Stripe's
            ``resource_missing``) when the provider does not know it.
        """
        ...

    def payout_status(self, movement: Movement, provider_id: str) -> ProviderObject:
        """A transfer (``Movement.TRANSFER``) or a refund / return (``REFUND``, ``RETURN``) as the
        provider sees it now.

        :raises TransientError | PermanentError:
        """
        ...

    def records_since(self, since: datetime) -> Iterator[ProviderObject]:
        """Every payment received and every transfer, refund and return the provider made at or
        after ``since`` (UTC), in any status, page by page.

        :raises TransientError | PermanentError:
        """
        ...
