"""Payment commands -> provider calls -> payment events (DESIGN.md §5; sprint tasks 5.2-5.6).

``perform`` makes the one provider call a command asks for, through the rail's port, with the
command id as idempotency key and transient failures retried (``connectors.retry``). Its answer is
the payment event to emit: a payout the provider settles at once is Transfer/RefundSucceeded, one
it confirms later by webhook Transfer/RefundSubmitted; a compensation's outcome is PaymentReturned
/ PaymentCancelled. A permanent failure or exhausted retries become the Failed event (or the
compensation's outcome with a failure code).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.exceptions import PermanentError, TransientError
from connectors.payment_rail import CreatedPayment, PaymentRail, Payout
from connectors.retry import with_retries
from kernel.ids import identified
from kernel.messages import (
    CancelPayment,
    CreatePaymentIntent,
    EventMeta,
    InitiateRefund,
    PaymentCancelled,
    PaymentCommand,
    PaymentEvent,
    PaymentFailed,
    PaymentIntentCreated,
    PaymentReturned,
    RefundFailed,
    RefundSubmitted,
    RefundSucceeded,
    ReturnPayment,
    TransferFailed,
    TransferSubmitted,
    TransferSucceeded,
    TransferToSeller,
)
from kernel.model import Rail


@dataclass(frozen=True)
class Outcome:
    """The event to emit, and the error when retries ran out (the command then goes to the DLQ
    as well, for an operator)."""

    event: PaymentEvent
    exhausted: TransientError | None = None


def perform(
    command: PaymentCommand,
    rails: Mapping[Rail, PaymentRail],
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    call, succeeded, failed = _PLANS[type(command)](command, rails[command.rail])
    meta = EventMeta(
        "", command.meta.escrow_id, now, 0, command.meta.command_id, command.meta.correlation_id
    )
    # The event's id derives from (escrow id, event type, causing command id) once it is built.
    try:
        return Outcome(identified(succeeded(meta, with_retries(call, sleep))))
    except PermanentError as exc:
        return Outcome(identified(failed(meta, exc.code or "permanent", str(exc))))
    except TransientError as exc:
        return Outcome(identified(failed(meta, "retries_exhausted", str(exc))), exc)


# A command's plan: the provider call, then how its answer or its failure becomes an event.
Plan = tuple[
    Callable[[], Any], Callable[[EventMeta, Any], PaymentEvent], Callable[..., PaymentEvent]
]


def _create_payment(command: CreatePaymentIntent, rail: PaymentRail) -> Plan:
    def call() -> CreatedPayment:
        return rail.create_payment(
            escrow_id=command.meta.escrow_id,
            amount_cents=command.amount.amount_cents,
            currency=command.amount.currency,
            idempotency_key=command.meta.command_id,
        )

    def succeeded(meta: EventMeta, created: CreatedPayment) -> PaymentEvent:
        return PaymentIntentCreated(
            meta,
            command.rail,
            created.provider_payment_id,
            command.amount,
            created.client_secret,
            created.deposit_address,
        )

    def failed(meta: EventMeta, code: str, message: str) -> PaymentEvent:
        return PaymentFailed(meta, "", code, message)

    return call, succeeded, failed


def _transfer(command: TransferToSeller, rail: PaymentRail) -> Plan:
    stripe = command.rail is Rail.STRIPE
    destination = command.seller_stripe_account_id if stripe else command.seller_wallet_address
    command_id = command.meta.command_id

    def call() -> Payout:
        return rail.transfer(
            escrow_id=command.meta.escrow_id,
            amount_cents=command.amount.amount_cents,
            currency=command.amount.currency,
            provider_payment_id=command.provider_payment_id,
            destination=destination,
            idempotency_key=command_id,
        )

    def succeeded(meta: EventMeta, payout: Payout) -> PaymentEvent:
        if payout.settled:
            return TransferSucceeded(meta, payout.provider_id, command.amount, command_id)
        return TransferSubmitted(meta, payout.provider_id, command.amount, command_id)

    def failed(meta: EventMeta, code: str, message: str) -> PaymentEvent:
        return TransferFailed(meta, code, message, command_id)

    return call, succeeded, failed


def _refund(command: InitiateRefund, rail: PaymentRail) -> Plan:
    command_id = command.meta.command_id

    def call() -> Payout:
        return rail.refund(
            escrow_id=command.meta.escrow_id,
            amount_cents=command.amount.amount_cents,
            currency=command.amount.currency,
            provider_payment_id=command.provider_payment_id,
            idempotency_key=command_id,
        )

    def succeeded(meta: EventMeta, payout: Payout) -> PaymentEvent:
        if payout.settled:
            return RefundSucceeded(meta, payout.provider_id, command.amount, command_id)
        return RefundSubmitted(meta, payout.provider_id, command.amount, command_id)

    def failed(meta: EventMeta, code: str, message: str) -> PaymentEvent:
        return RefundFailed(meta, code, message, command_id)

    return call, succeeded, failed


def _return_payment(command: ReturnPayment, rail: PaymentRail) -> Plan:
    def call() -> str:
        return rail.return_payment(
            escrow_id=command.meta.escrow_id,
            amount_cents=command.amount.amount_cents,
            currency=command.amount.currency,
            provider_payment_id=command.provider_payment_id,
            reason=command.reason,
            idempotency_key=command.meta.command_id,
        )

    def returned(meta: EventMeta, return_id: str) -> PaymentEvent:
        return PaymentReturned(
            meta, command.provider_payment_id, return_id, command.amount, command.reason
        )

    def failed(meta: EventMeta, code: str, message: str) -> PaymentEvent:
        return PaymentReturned(
            meta, command.provider_payment_id, "", command.amount, command.reason, code, message
        )

    return call, returned, failed


def _cancel_payment(command: CancelPayment, rail: PaymentRail) -> Plan:
    def call() -> None:
        rail.cancel_payment(
            escrow_id=command.meta.escrow_id,
            provider_payment_id=command.provider_payment_id,
            idempotency_key=command.meta.command_id,
        )

    def failed(meta: EventMeta, code: str, message: str) -> PaymentEvent:
        return PaymentCancelled(meta, command.provider_payment_id, code, message)

    return call, lambda meta, _: PaymentCancelled(meta, command.provider_payment_id), failed


_PLANS: dict[type, Callable[[Any, PaymentRail], Plan]] = {
    CreatePaymentIntent: _create_payment,
    TransferToSeller: _transfer,
    InitiateRefund: _refund,
    ReturnPayment: _return_payment,
    CancelPayment: _cancel_payment,
}
