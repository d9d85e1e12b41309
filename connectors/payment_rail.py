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
    ) -> str:
        """Pays the seller (Stripe connected account or wallet); returns the transfer id.

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
    ) -> str:
        """Returns the buyer's payment; returns the refund id.

        :raises TransientError | PermanentError:
        """
        ...
