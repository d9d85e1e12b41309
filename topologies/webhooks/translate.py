"""Provider webhook events -> payment events (DESIGN.md §5; sprint task 5.5). Pure.

Stripe ``payment_intent.succeeded`` / ``payment_intent.payment_failed`` become PaymentSucceeded /
PaymentFailed; a custodian ``deposit.confirmed`` becomes a deposit to screen first. Event ids
derive from the escrow, the event type and the provider's event id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from kernel.ids import event_meta
from kernel.messages import EventMeta, PaymentEvent, PaymentFailed, PaymentSucceeded
from kernel.model import Money


class Provider(IntEnum):
    STRIPE = 1
    CUSTODIAN = 2


@dataclass(frozen=True)
class WebhookReceived:
    """webhooks.v1.WebhookReceived: a verified provider event, as received."""

    meta: EventMeta
    provider: Provider
    provider_event_id: str
    event_type: str
    provider_payment_id: str
    payload: bytes
    received_at: datetime


@dataclass(frozen=True)
class DepositToScreen:
    """A confirmed USDC deposit, held back until its sending wallet is screened."""

    meta: EventMeta  # for the payment event it becomes
    deposit_id: str
    from_address: str
    amount: Money


class MalformedWebhook(ValueError):
    """The provider event lacks what its type promises."""


Translation = PaymentEvent | DepositToScreen | None


def translate(webhook: WebhookReceived) -> Translation:
    """What the webhook means for an escrow; None for event types that mean nothing to one.

    :raises MalformedWebhook:
    """
    handler = _HANDLERS.get((webhook.provider, webhook.event_type))
    if handler is None:
        return None
    try:
        return handler(webhook, json.loads(webhook.payload))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedWebhook(
            f"{webhook.event_type} {webhook.provider_event_id}: {exc!r}"
        ) from exc


def _meta(webhook: WebhookReceived, escrow_id: str, kind: type) -> EventMeta:
    """The meta of the payment event ``webhook`` becomes: caused by the webhook's event id."""
    cause = webhook.meta.event_id
    correlation_id = webhook.meta.correlation_id or cause
    return event_meta(kind, escrow_id, cause, webhook.received_at, 0, correlation_id)


def _stripe_escrow_id(intent: dict[str, Any]) -> str:
    escrow_id = intent.get("metadata", {}).get("escrow_id") or intent.get("transfer_group")
    if not escrow_id:
        raise KeyError("metadata.escrow_id")
    return str(escrow_id)


def _payment_intent_succeeded(webhook: WebhookReceived, event: dict[str, Any]) -> Translation:
    intent = event["data"]["object"]
    escrow_id = _stripe_escrow_id(intent)
    amount = Money(
        int(intent.get("amount_received") or intent["amount"]), intent["currency"].upper()
    )
    return PaymentSucceeded(_meta(webhook, escrow_id, PaymentSucceeded), intent["id"], amount)


def _payment_intent_failed(webhook: WebhookReceived, event: dict[str, Any]) -> Translation:
    intent = event["data"]["object"]
    error = intent.get("last_payment_error") or {}
    return PaymentFailed(
        _meta(webhook, _stripe_escrow_id(intent), PaymentFailed),
        intent["id"],
        error.get("code") or error.get("decline_code") or "payment_failed",
        error.get("message", ""),
    )


def _deposit_confirmed(webhook: WebhookReceived, event: dict[str, Any]) -> Translation:
    data = event["data"]
    escrow_id = str(data["reference"])
    meta = _meta(webhook, escrow_id, DepositToScreen)
    return DepositToScreen(
        meta, data["deposit_id"], data["from_address"], Money(int(data["amount_cents"]), "USD")
    )


_HANDLERS: dict[tuple[Provider, str], Callable[[WebhookReceived, dict[str, Any]], Translation]] = {
    (Provider.STRIPE, "payment_intent.succeeded"): _payment_intent_succeeded,
    (Provider.STRIPE, "payment_intent.payment_failed"): _payment_intent_failed,
    (Provider.CUSTODIAN, "deposit.confirmed"): _deposit_confirmed,
}
