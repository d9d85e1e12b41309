"""The hourly reconciliation's decisions (seeds: "Reconciliation", "Error Scenarios: Lost
Webhook"), pure: which provider object an escrow waits for, and the webhook the provider would have
sent about it when the provider says it is final but the escrow never heard.

A recovered webhook has a provider event id derived from the object and the event type
(``recon_<object id>_<type>``), so a second pass yields the same id and the webhooks topology,
which deduplicates by it, ignores it; a late real webhook has the provider's own id and is
translated again, which the escrow topology treats as a duplicate of the same provider object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from connectors.payment_rail import Movement, ProviderObject, Status
from kernel.model import Rail
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView
from state_stores.view_table import payout_submitted

# The payout each submission event waits for the provider to confirm.
PAYOUT_OF_SUBMISSION = {
    "EscrowTransferSubmitted": Movement.TRANSFER,
    "EscrowRefundSubmitted": Movement.REFUND,
}


@dataclass(frozen=True)
class Awaited:
    """The provider object an escrow waits for: its payment, or a payout it submitted."""

    rail: Rail
    movement: Movement
    provider_id: str


@dataclass(frozen=True)
class RecoveredWebhook:
    """A provider webhook, as the provider would have sent it (``payload``: its JSON body)."""

    rail: Rail
    provider_event_id: str
    event_type: str
    provider_payment_id: str
    movement: Movement
    payload: bytes


def awaited(view: EscrowView) -> Awaited | None:
    """What the escrow waits for the provider to report, or None (nothing, or a payout whose
    submission left the view's bounded history)."""
    rail = Rail(view.rail)
    if view.status == EscrowStatus.ESCROW_STATUS_AWAIT_FUNDS and view.payment.provider_payment_id:
        return Awaited(rail, Movement.PAYMENT, view.payment.provider_payment_id)
    submitted = payout_submitted(view)
    if submitted is None:
        return None
    return Awaited(rail, PAYOUT_OF_SUBMISSION[submitted.event_type], view.payout_submitted_id)


def recovered(view: EscrowView, found: ProviderObject) -> RecoveredWebhook | None:
    """The webhook to produce for ``found`` (what the provider says of the object ``view`` waits
    for), or None: still pending, closed without money moving (nothing to report), or a payment
    failure while the escrow already heard of one (the buyer may retry the same PaymentIntent, and
    a second failure counted would bring the escrow nearer its cancellation)."""
    if found.webhook is None or found.status is Status.CANCELED:
        return None
    heard_failure = any(e.event_type == "EscrowPaymentFailed" for e in view.history)
    if found.movement is Movement.PAYMENT and found.status is Status.FAILED and heard_failure:
        return None
    event_type = found.webhook.event_type
    event_id = f"recon_{found.provider_id}_{event_type}"
    body = {"id": event_id, "type": event_type, "data": dict(found.webhook.data)}
    return RecoveredWebhook(
        Rail(view.rail),
        event_id,
        event_type,
        found.provider_payment_id or found.provider_id,
        found.movement,
        json.dumps(body, sort_keys=True).encode(),
    )
