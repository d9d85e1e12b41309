"""The port every payment rail implements (DESIGN.md §5): Stripe and the USDC custodian.

Amounts are integer minor units (cents; USDC is accounted in USD cents). Every call takes an
idempotency key derived from the command that caused it, so repeating a call after a crash returns
the first call's result instead of moving money twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
