"""Provider webhook events -> payment events (DESIGN.md §5; sprint task 5.5). Pure.

Stripe ``payment_intent.succeeded`` / ``payment_intent.payment_failed`` become PaymentSucceeded /
PaymentFailed; a custodian ``deposit.confirmed`` becomes a deposit to screen first. Payouts the
provider confirms later: the custodian's ``transfer.*`` become Transfer{Succeeded,Failed},
``return.*`` and Stripe's ``refund.*`` / ``charge.refund.updated`` Refund{Succeeded,Failed} (or,
for money an escrow could not take, PaymentReturned). Event ids derive from the escrow, the event
type and the provider's event id. A webhook the reconciliation recovered
(``recovered_by_reconciliation``) marks the payment event it becomes the same way.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

from connectors.custodian_objects import REFUND
from connectors.stripe_objects import RETURN
from kernel.ids import event_meta
from kernel.messages import (
    ChargebackClosed,
    ChargebackOpened,
    EventMeta,
    PaymentEvent,
    PaymentFailed,
    PaymentReturned,
    PaymentSucceeded,
    RefundFailed,
    RefundSucceeded,
    TransferFailed,
    TransferReversed,
    TransferSucceeded,
)
from kernel.model import Money

T = TypeVar("T")


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
    recovered_by_reconciliation: bool = False


@dataclass(frozen=True)
class DepositToScreen:
    """A confirmed USDC deposit, held back until its sending wallet is screened."""

    meta: EventMeta  # for the payment event it becomes
    deposit_id: str
    from_address: str
    amount: Money
    recovered_by_reconciliation: bool = False
    # The on-chain transaction: one deposit, however many webhooks (a recovered one, a late real
    # one) report it.
    tx_hash: str = ""


class MalformedWebhook(ValueError):
    """The provider event lacks what its type promises."""


Translation = PaymentEvent | DepositToScreen | None


def translate(webhook: WebhookReceived, known_escrow_id: str = "") -> Translation:
    """What the webhook means for an escrow; None for event types that mean nothing to one.

    :param known_escrow_id: the escrow of the webhook's payment, as earlier webhooks of the same
        payment named it ("" if none did): a chargeback names only the PaymentIntent.
    :raises MalformedWebhook:
    """
    handler = _HANDLERS.get((webhook.provider, webhook.event_type))
    if handler is None:
        return None
    try:
        translation = handler(webhook, json.loads(webhook.payload), known_escrow_id)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedWebhook(
            f"{webhook.event_type} {webhook.provider_event_id}: {exc!r}"
        ) from exc
    return marked(translation, webhook.recovered_by_reconciliation)


def marked(event: T, recovered: bool) -> T:
    """``event`` marked ``recovered_by_reconciliation`` when ``recovered`` and its type has the
    field (payment outcomes and deposits do; chargebacks, which reconciliation never recovers,
    do not)."""
    names = {f.name for f in dataclasses.fields(event)} if dataclasses.is_dataclass(event) else ()
    if not recovered or "recovered_by_reconciliation" not in names:
        return event
    return dataclasses.replace(event, recovered_by_reconciliation=True)  # type: ignore[type-var]


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


def _payment_intent_succeeded(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    intent = event["data"]["object"]
    escrow_id = _stripe_escrow_id(intent)
    amount = Money(
        int(intent.get("amount_received") or intent["amount"]), intent["currency"].upper()
    )
    return PaymentSucceeded(_meta(webhook, escrow_id, PaymentSucceeded), intent["id"], amount)


def _payment_intent_failed(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    intent = event["data"]["object"]
    error = intent.get("last_payment_error") or {}
    return PaymentFailed(
        _meta(webhook, _stripe_escrow_id(intent), PaymentFailed),
        intent["id"],
        error.get("code") or error.get("decline_code") or "payment_failed",
        error.get("message", ""),
        attempt_id=str(error.get("charge") or intent.get("latest_charge") or ""),
    )


def _deposit_confirmed(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    data = event["data"]
    escrow_id = str(data["reference"])
    meta = _meta(webhook, escrow_id, DepositToScreen)
    amount = Money(int(data["amount_cents"]), "USD")
    tx_hash = str(data.get("tx_hash") or "")
    return DepositToScreen(meta, data["deposit_id"], data["from_address"], amount, tx_hash=tx_hash)


def _custodian_transfer(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    """An on-chain transfer settled; ``external_id`` echoes the TransferToSeller it answers."""
    data = event["data"]
    escrow_id, command_id = str(data["reference"]), str(data["external_id"])
    if webhook.event_type == "transfer.completed":
        amount = Money(int(data["amount_cents"]), "USD")
        meta = _meta(webhook, escrow_id, TransferSucceeded)
        return TransferSucceeded(meta, data["transfer_id"], amount, command_id)
    meta = _meta(webhook, escrow_id, TransferFailed)
    code = str(data.get("failure_code") or "transfer_failed")
    return TransferFailed(meta, code, "", command_id, data["transfer_id"])


def _custodian_return(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    """A deposit went back on chain: a refund the escrow decided (reason ``refund``), or money it
    could not take."""
    data = event["data"]
    escrow_id, command_id = str(data["reference"]), str(data["external_id"])
    amount = Money(int(data.get("amount_cents") or 0), "USD")
    completed = webhook.event_type == "return.completed"
    code = "" if completed else str(data.get("failure_code") or "return_failed")
    if data.get("reason") == REFUND:
        if completed:
            meta = _meta(webhook, escrow_id, RefundSucceeded)
            return RefundSucceeded(meta, data["return_id"], amount, command_id)
        return RefundFailed(
            _meta(webhook, escrow_id, RefundFailed), code, "", command_id, data["return_id"]
        )
    meta = _meta(webhook, escrow_id, PaymentReturned)
    reason = str(data.get("reason", ""))
    return PaymentReturned(meta, data["deposit_id"], data["return_id"], amount, reason, code)


def _stripe_refund(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    """A Stripe Refund settled (``succeeded``) or did not (``failed`` / ``canceled``); its
    metadata names the escrow, the command it answers and its purpose."""
    refund = event["data"]["object"]
    status = refund["status"]
    if status not in ("succeeded", "failed", "canceled"):
        return None  # still pending
    metadata = refund.get("metadata") or {}
    escrow_id, command_id = str(metadata["escrow_id"]), str(metadata.get("payment_command_id", ""))
    amount = Money(int(refund["amount"]), str(refund["currency"]).upper())
    code = "" if status == "succeeded" else str(refund.get("failure_reason") or "refund_failed")
    if metadata.get("purpose") == RETURN:
        meta = _meta(webhook, escrow_id, PaymentReturned)
        intent = str(refund.get("payment_intent", ""))
        return PaymentReturned(meta, intent, refund["id"], amount, "returned", code)
    if status == "succeeded":
        meta = _meta(webhook, escrow_id, RefundSucceeded)
        return RefundSucceeded(meta, refund["id"], amount, command_id)
    return RefundFailed(_meta(webhook, escrow_id, RefundFailed), code, "", command_id, refund["id"])


def _stripe_dispute(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    """A chargeback: Stripe's Dispute names the PaymentIntent, not the escrow."""
    dispute = event["data"]["object"]
    if not known_escrow_id:
        raise KeyError(f"no escrow known for payment {dispute.get('payment_intent')}")
    intent = str(dispute["payment_intent"])
    if webhook.event_type == "charge.dispute.created":
        amount = Money(int(dispute["amount"]), str(dispute["currency"]).upper())
        meta = _meta(webhook, known_escrow_id, ChargebackOpened)
        return ChargebackOpened(meta, intent, dispute["id"], amount, str(dispute.get("reason", "")))
    meta = _meta(webhook, known_escrow_id, ChargebackClosed)
    return ChargebackClosed(meta, intent, dispute["id"], str(dispute["status"]))


def _stripe_transfer_reversed(
    webhook: WebhookReceived, event: dict[str, Any], known_escrow_id: str
) -> Translation:
    transfer = event["data"]["object"]
    escrow_id = (transfer.get("metadata") or {}).get("escrow_id") or transfer["transfer_group"]
    amount = Money(int(transfer["amount_reversed"]), str(transfer["currency"]).upper())
    return TransferReversed(
        _meta(webhook, str(escrow_id), TransferReversed), transfer["id"], amount
    )


_Handler = Callable[[WebhookReceived, dict[str, Any], str], Translation]
_HANDLERS: dict[tuple[Provider, str], _Handler] = {
    (Provider.STRIPE, "payment_intent.succeeded"): _payment_intent_succeeded,
    (Provider.STRIPE, "payment_intent.payment_failed"): _payment_intent_failed,
    (Provider.STRIPE, "refund.updated"): _stripe_refund,
    (Provider.STRIPE, "refund.failed"): _stripe_refund,
    (Provider.STRIPE, "charge.refund.updated"): _stripe_refund,
    (Provider.STRIPE, "charge.dispute.created"): _stripe_dispute,
    (Provider.STRIPE, "charge.dispute.closed"): _stripe_dispute,
    (Provider.STRIPE, "transfer.reversed"): _stripe_transfer_reversed,
    (Provider.CUSTODIAN, "deposit.confirmed"): _deposit_confirmed,
    (Provider.CUSTODIAN, "transfer.completed"): _custodian_transfer,
    (Provider.CUSTODIAN, "transfer.failed"): _custodian_transfer,
    (Provider.CUSTODIAN, "return.completed"): _custodian_return,
    (Provider.CUSTODIAN, "return.failed"): _custodian_return,
}
