"""Stripe's objects (PaymentIntent, Transfer, Refund, as the API's JSON) as ``ProviderObject``s,
with the webhook Stripe sends about each in its current status (seeds: "Reconciliation"). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.payment_rail import Movement, ProviderObject, ProviderWebhook, Status

Json = Mapping[str, Any]

# A Stripe Refund's metadata "purpose": what its refund.* webhooks become.
REFUND, RETURN = "refund", "return"

_INTENT_STATUSES = {"succeeded": Status.SUCCEEDED, "canceled": Status.CANCELED}
_REFUND_STATUSES = {
    "succeeded": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELED,
}
# The payment_intent.* event each final status is announced by (a cancelled PaymentIntent's
# event moves no escrow: the gateway does not forward it).
_INTENT_EVENTS = {
    Status.SUCCEEDED: "payment_intent.succeeded",
    Status.FAILED: "payment_intent.payment_failed",
}


def payment_intent(intent: Json) -> ProviderObject:
    """A PaymentIntent: succeeded, canceled, failed (waiting for another payment method after a
    ``last_payment_error``) or pending; the amount received once it succeeded."""
    status = _INTENT_STATUSES.get(intent["status"], Status.PENDING)
    if status is Status.PENDING and intent.get("last_payment_error"):
        status = Status.FAILED
    received = status is Status.SUCCEEDED and intent.get("amount_received")
    event = _INTENT_EVENTS.get(status)
    return ProviderObject(
        Movement.PAYMENT,
        intent["id"],
        intent["id"],
        _escrow_id(intent),
        status,
        int(received or intent["amount"]),
        str(intent["currency"]).upper(),
        _created(intent),
        webhook=ProviderWebhook(event, {"object": intent}) if event else None,
    )


def transfer(transfer: Json) -> ProviderObject:
    """A Transfer to a connected account: final when created, so never pending and never
    announced by a webhook that moves an escrow."""
    return ProviderObject(
        Movement.TRANSFER,
        transfer["id"],
        "",  # a Transfer names the charge it was paid from, not the PaymentIntent
        _escrow_id(transfer),
        Status.SUCCEEDED,
        int(transfer["amount"]),
        str(transfer["currency"]).upper(),
        _created(transfer),
    )


def refund(refund: Json) -> ProviderObject:
    """A Refund: a refund the escrow decided, or (metadata ``purpose`` "return") money it could
    not take; ``refund.updated`` announces its final status."""
    status = _REFUND_STATUSES.get(refund["status"], Status.PENDING)
    purpose = (refund.get("metadata") or {}).get("purpose")
    return ProviderObject(
        Movement.RETURN if purpose == RETURN else Movement.REFUND,
        refund["id"],
        str(refund.get("payment_intent") or ""),
        _escrow_id(refund),
        status,
        int(refund["amount"]),
        str(refund["currency"]).upper(),
        _created(refund),
        webhook=None
        if status is Status.PENDING
        else ProviderWebhook("refund.updated", {"object": refund}),
    )


def _escrow_id(obj: Json) -> str:
    return str((obj.get("metadata") or {}).get("escrow_id") or obj.get("transfer_group") or "")


def _created(obj: Json) -> datetime:
    return datetime.fromtimestamp(int(obj["created"]), UTC)
