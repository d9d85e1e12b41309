from __future__ import annotations

import json

import pytest

from kernel.messages import PaymentFailed, PaymentSucceeded
from kernel.model import Money
from tests.builders import NOW, payment_meta
from tests.provider_fakes.provider_webhooks import deposit_confirmed, stripe_event
from topologies.webhooks.translate import (
    DepositToScreen,
    MalformedWebhook,
    Provider,
    WebhookReceived,
    translate,
)


def received(provider: Provider, body: bytes, payment_id: str = "pi_1") -> WebhookReceived:
    event = json.loads(body)
    return WebhookReceived(
        payment_meta(""), provider, event["id"], event["type"], payment_id, body, NOW
    )


def test_a_succeeded_payment_intent_is_payment_succeeded() -> None:
    body = stripe_event("payment_intent.succeeded", "pi_1", "esc-1", 500_000)

    event = translate(received(Provider.STRIPE, body))

    assert isinstance(event, PaymentSucceeded)
    assert (event.meta.escrow_id, event.provider_payment_id) == ("esc-1", "pi_1")
    assert event.amount == Money(500_000, "USD")


def test_a_failed_payment_intent_is_payment_failed_with_stripe_s_code() -> None:
    body = stripe_event("payment_intent.payment_failed", "pi_1", "esc-1", 500_000)

    event = translate(received(Provider.STRIPE, body))

    assert isinstance(event, PaymentFailed) and event.failure_code == "card_declined"


def test_a_confirmed_deposit_must_be_screened_first() -> None:
    body = deposit_confirmed("dep_1", "esc-2", "0xabc", 2_500_000)

    deposit = translate(received(Provider.CUSTODIAN, body, "dep_1"))

    assert isinstance(deposit, DepositToScreen)
    assert (deposit.meta.escrow_id, deposit.from_address) == ("esc-2", "0xabc")


def test_an_event_type_that_moves_no_escrow_is_ignored() -> None:
    body = json.dumps({"id": "evt_1", "type": "customer.created", "data": {"object": {}}}).encode()

    assert translate(received(Provider.STRIPE, body)) is None


def test_a_payment_intent_without_an_escrow_is_malformed() -> None:
    body = json.dumps(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "amount": 1, "currency": "usd"}},
        }
    ).encode()

    with pytest.raises(MalformedWebhook):
        translate(received(Provider.STRIPE, body))
