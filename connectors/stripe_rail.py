"""The Stripe rail over the official ``stripe`` SDK (DESIGN.md §5; seeds: "Stripe Rail").

PaymentIntent with ``transfer_group`` = escrow id; release = Transfer to the seller's connected
account with ``source_transaction`` = the PaymentIntent's charge; refund = Refund of the
PaymentIntent. The SDK's own retries are off: ``connectors.retry`` owns retrying, and every call
carries the caller's idempotency key (the SDK would otherwise invent a random one). The read side
retrieves and lists PaymentIntents, Transfers and Refunds (``connectors.stripe_objects``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import stripe

from connectors import stripe_objects
from connectors.exceptions import PermanentError, TransientError
from connectors.payment_rail import CreatedPayment, Movement, Payout, ProviderObject
from connectors.stripe_objects import REFUND, RETURN

logger = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeRail:
    """:param api_key: secret key (``sk_...``).
    :param api_base: e.g. ``http://127.0.0.1:12111`` for stripe-mock; None = Stripe itself.
    :param timeout_s: per request. Default - 2 s.
    """

    def __init__(self, api_key: str, api_base: str | None = None, timeout_s: float = 2.0) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_s),
        )

    def create_payment(
        self, *, escrow_id: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> CreatedPayment:
        params: Any = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "transfer_group": escrow_id,
            "metadata": {"escrow_id": escrow_id},
            "automatic_payment_methods": {"enabled": True},
        }
        intent = _call(
            lambda: self._client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key}
            )
        )
        return CreatedPayment(intent.id, client_secret=intent.client_secret or "")

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
        intent = _call(lambda: self._client.v1.payment_intents.retrieve(provider_payment_id))
        params: Any = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": escrow_id,
            "metadata": {"escrow_id": escrow_id},
        }
        charge = intent.latest_charge
        if charge:  # ties the transfer to the buyer's funds, not the platform balance
            params["source_transaction"] = charge if isinstance(charge, str) else charge.id
        else:
            logger.warning("PaymentIntent %s has no charge; transfer without source", intent.id)
        transfer = _call(
            lambda: self._client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        )
        return Payout(str(transfer.id), settled=True)  # a Transfer is final when created

    def refund(
        self,
        *,
        escrow_id: str,
        amount_cents: int,
        currency: str,
        provider_payment_id: str,
        idempotency_key: str,
    ) -> Payout:
        refund = self._refund(escrow_id, amount_cents, provider_payment_id, REFUND, idempotency_key)
        if refund.status in ("failed", "canceled"):
            raise PermanentError(f"stripe: refund {refund.id} {refund.status}", "refund_failed")
        return Payout(str(refund.id), settled=refund.status == "succeeded")

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
        refund = self._refund(escrow_id, amount_cents, provider_payment_id, RETURN, idempotency_key)
        return str(refund.id)

    def cancel_payment(
        self, *, escrow_id: str, provider_payment_id: str, idempotency_key: str
    ) -> None:
        params: Any = {"cancellation_reason": "abandoned"}
        _call(
            lambda: self._client.v1.payment_intents.cancel(
                provider_payment_id, params, {"idempotency_key": idempotency_key}
            )
        )

    def payment_status(self, provider_payment_id: str) -> ProviderObject:
        intent = _call(lambda: self._client.v1.payment_intents.retrieve(provider_payment_id))
        return stripe_objects.payment_intent(intent.to_dict())

    def payout_status(self, movement: Movement, provider_id: str) -> ProviderObject:
        if movement is Movement.TRANSFER:
            found = _call(lambda: self._client.v1.transfers.retrieve(provider_id))
            return stripe_objects.transfer(found.to_dict())
        return stripe_objects.refund(
            _call(lambda: self._client.v1.refunds.retrieve(provider_id)).to_dict()
        )

    def records_since(self, since: datetime) -> Iterator[ProviderObject]:
        params: Any = {"created": {"gte": int(since.timestamp())}, "limit": 100}
        v1 = self._client.v1
        yield from map(stripe_objects.payment_intent, _all(lambda: v1.payment_intents.list(params)))
        yield from map(stripe_objects.transfer, _all(lambda: v1.transfers.list(params)))
        yield from map(stripe_objects.refund, _all(lambda: v1.refunds.list(params)))

    def _refund(
        self,
        escrow_id: str,
        amount_cents: int,
        provider_payment_id: str,
        purpose: str,
        idempotency_key: str,
    ) -> Any:
        """A Refund of the PaymentIntent whose metadata names the escrow, the command it answers
        (echoed by ``refund.*`` webhooks) and its purpose (a refund the escrow decided, or a
        return of money it could not take)."""
        params: Any = {
            "payment_intent": provider_payment_id,
            "amount": amount_cents,
            "metadata": {
                "escrow_id": escrow_id,
                "payment_command_id": idempotency_key,
                "purpose": purpose,
            },
        }
        return _call(
            lambda: self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        )


def _all(first_page: Callable[[], Any]) -> list[dict[str, Any]]:
    """Every object of a list as JSON, page after page (the SDK follows ``has_more``)."""
    return _call(lambda: [obj.to_dict() for obj in first_page().auto_paging_iter()])


def _call(request: Callable[[], T]) -> T:
    try:
        return request()
    except _TRANSIENT as exc:
        raise TransientError(f"stripe: {exc.user_message or exc}") from exc
    except stripe.StripeError as exc:
        if exc.http_status is not None and exc.http_status >= 500:
            raise TransientError(f"stripe: {exc}") from exc
        raise PermanentError(f"stripe: {exc.user_message or exc}", exc.code or "") from exc
