"""The hourly pass's decisions, pure: what an escrow waits for, and the webhook recovered."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from connectors.payment_rail import Movement, ProviderObject, ProviderWebhook, Status
from kernel.messages import EventMeta, PaymentSucceeded
from kernel.model import Rail
from schemas.common.v1.types_pb2 import Rail as RailProto
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView
from schemas.webhooks.v1.events_pb2 import Provider
from topologies.reconciliation.recovery import Awaited, awaited, recovered
from topologies.webhooks.translate import Provider as TranslateProvider
from topologies.webhooks.translate import WebhookReceived, translate

AT = datetime(2026, 11, 22, tzinfo=UTC)


def unfunded(*history: str) -> EscrowView:
    view = EscrowView(escrow_id="esc-1", status=EscrowStatus.ESCROW_STATUS_AWAIT_FUNDS)
    view.rail = RailProto.RAIL_STRIPE
    view.payment.provider_payment_id = "pi_1"
    for event_type in history:
        view.history.add(event_type=event_type)
    return view


def paid(status: Status = Status.SUCCEEDED) -> ProviderObject:
    intent = {
        "id": "pi_1",
        "amount": 500_000,
        "currency": "usd",
        "metadata": {"escrow_id": "esc-1"},
    }
    event = (
        "payment_intent.succeeded"
        if status is Status.SUCCEEDED
        else "payment_intent.payment_failed"
    )
    return ProviderObject(
        Movement.PAYMENT, "pi_1", "pi_1", "esc-1", status, 500_000, "USD", AT, "",
        ProviderWebhook(event, {"object": intent}),
    )  # fmt: skip


class TestAwaited:
    def test_an_unfunded_escrow_waits_for_its_payment(self) -> None:
        assert awaited(unfunded()) == Awaited(Rail.STRIPE, Movement.PAYMENT, "pi_1")

    def test_a_submitted_refund_is_awaited_by_its_id(self) -> None:
        view = EscrowView(escrow_id="esc-1", status=EscrowStatus.ESCROW_STATUS_FUNDS_HELD)
        view.rail, view.payout_submitted_id = RailProto.RAIL_USDC_BASE, "ret_1"
        view.history.add(event_type="EscrowRefundSubmitted")

        assert awaited(view) == Awaited(Rail.USDC_BASE, Movement.REFUND, "ret_1")

    def test_a_funded_escrow_waits_for_nothing(self) -> None:
        view = unfunded()
        view.status = EscrowStatus.ESCROW_STATUS_FUNDS_HELD

        assert awaited(view) is None


class TestRecovered:
    def test_a_succeeded_payment_becomes_its_webhook_with_a_deterministic_id(self) -> None:
        webhook = recovered(unfunded(), paid())

        assert webhook is not None
        assert webhook.provider_event_id == "recon_pi_1_payment_intent.succeeded"
        assert (webhook.provider_payment_id, webhook.event_type) == (
            "pi_1",
            "payment_intent.succeeded",
        )
        body = json.loads(webhook.payload)
        assert body["id"] == webhook.provider_event_id
        assert body["data"]["object"]["id"] == "pi_1"
        assert recovered(unfunded(), paid()) == webhook

    def test_nothing_final_nothing_recovered(self) -> None:
        pending = ProviderObject(
            Movement.PAYMENT, "pi_1", "pi_1", "esc-1", Status.PENDING, 1, "USD", AT
        )

        assert recovered(unfunded(), pending) is None

    def test_a_failure_is_recovered_only_if_the_escrow_heard_of_none(self) -> None:
        assert recovered(unfunded(), paid(Status.FAILED)) is not None
        assert recovered(unfunded("EscrowPaymentFailed"), paid(Status.FAILED)) is None


def test_the_webhooks_topology_marks_what_it_translates_from_a_recovered_webhook() -> None:
    webhook = recovered(unfunded(), paid())
    assert webhook is not None
    received = WebhookReceived(
        EventMeta(f"stripe:{webhook.provider_event_id}", "", AT, 0, ""),
        TranslateProvider(Provider.PROVIDER_STRIPE),
        webhook.provider_event_id,
        webhook.event_type,
        webhook.provider_payment_id,
        webhook.payload,
        AT,
        recovered_by_reconciliation=True,
    )

    event = translate(received)

    assert isinstance(event, PaymentSucceeded)
    assert event.recovered_by_reconciliation
    assert (event.provider_payment_id, event.meta.escrow_id) == ("pi_1", "esc-1")
