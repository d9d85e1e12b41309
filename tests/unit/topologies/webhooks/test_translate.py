from __future__ import annotations

import json

import pytest

from kernel.messages import (
    ChargebackClosed,
    ChargebackOpened,
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
from tests.builders import NOW, payment_meta
from tests.provider_fakes.provider_webhooks import (
    custodian_payout_event,
    deposit_confirmed,
    stripe_dispute_event,
    stripe_event,
    stripe_refund_event,
)
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
    assert event.attempt_id.startswith("ch_")  # the failed charge: one attempt counts once


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


TRANSFER = {
    "id": "trf_1",
    "reference": "esc-3",
    "external_id": "cmd-transfer",
    "deposit_id": "dep_1",
    "amount_cents": 2_500_000,
}


def test_a_completed_custodian_transfer_settles_the_transfer_it_names() -> None:
    body = custodian_payout_event(TRANSFER, "completed")

    event = translate(received(Provider.CUSTODIAN, body, "dep_1"))

    assert isinstance(event, TransferSucceeded)
    assert (event.meta.escrow_id, event.transfer_id, event.payment_command_id) == (
        "esc-3",
        "trf_1",
        "cmd-transfer",
    )
    assert event.amount == Money(2_500_000, "USD")


def test_a_failed_custodian_transfer_is_transfer_failed_with_its_code() -> None:
    body = custodian_payout_event(TRANSFER, "failed", "insufficient_gas")

    event = translate(received(Provider.CUSTODIAN, body, "dep_1"))

    assert isinstance(event, TransferFailed)
    assert (event.failure_code, event.transfer_id, event.payment_command_id) == (
        "insufficient_gas",
        "trf_1",
        "cmd-transfer",
    )


@pytest.mark.parametrize(
    ("outcome", "kind"), [("completed", RefundSucceeded), ("failed", RefundFailed)]
)
def test_a_custodian_return_that_is_a_refund_settles_the_refund(outcome: str, kind: type) -> None:
    refund = {**TRANSFER, "id": "ret_1", "external_id": "cmd-refund", "reason": "refund"}

    event = translate(
        received(Provider.CUSTODIAN, custodian_payout_event(refund, outcome), "dep_1")
    )

    assert isinstance(event, RefundSucceeded | RefundFailed) and isinstance(event, kind)
    assert event.payment_command_id == "cmd-refund"


@pytest.mark.parametrize(("outcome", "code"), [("completed", ""), ("failed", "chain_reverted")])
def test_a_custodian_return_of_stranded_money_is_payment_returned(outcome: str, code: str) -> None:
    returned = {**TRANSFER, "id": "ret_2", "reason": "return: the escrow was cancelled"}

    event = translate(
        received(Provider.CUSTODIAN, custodian_payout_event(returned, outcome), "dep_1")
    )

    assert isinstance(event, PaymentReturned)
    assert (event.provider_payment_id, event.return_id, event.failure_code) == (
        "dep_1",
        "ret_2",
        code,
    )


REFUND_METADATA = {"escrow_id": "esc-4", "payment_command_id": "cmd-refund", "purpose": "refund"}


@pytest.mark.parametrize("kind", ["refund.updated", "charge.refund.updated"])
def test_a_succeeded_stripe_refund_settles_the_refund_it_names(kind: str) -> None:
    body = stripe_refund_event(kind, "re_1", "pi_1", 500_000, "succeeded", REFUND_METADATA)

    event = translate(received(Provider.STRIPE, body))

    assert isinstance(event, RefundSucceeded)
    assert (event.meta.escrow_id, event.refund_id, event.payment_command_id) == (
        "esc-4",
        "re_1",
        "cmd-refund",
    )


def test_a_failed_stripe_refund_is_refund_failed() -> None:
    body = stripe_refund_event("refund.failed", "re_1", "pi_1", 500_000, "failed", REFUND_METADATA)

    event = translate(received(Provider.STRIPE, body))

    assert isinstance(event, RefundFailed) and event.failure_code == "expired_or_canceled_card"


def test_a_pending_stripe_refund_is_not_an_outcome_yet() -> None:
    body = stripe_refund_event(
        "refund.updated", "re_1", "pi_1", 500_000, "pending", REFUND_METADATA
    )

    assert translate(received(Provider.STRIPE, body)) is None


def test_a_stripe_refund_that_returns_stranded_money_is_payment_returned() -> None:
    metadata = {**REFUND_METADATA, "purpose": "return"}
    body = stripe_refund_event("refund.updated", "re_2", "pi_9", 500_000, "succeeded", metadata)

    event = translate(received(Provider.STRIPE, body))

    assert isinstance(event, PaymentReturned)
    assert (event.provider_payment_id, event.return_id) == ("pi_9", "re_2")


def dispute_event(kind: str, status: str = "needs_response") -> bytes:
    return stripe_dispute_event(kind, "pi_1", 500_000, status)


def test_a_chargeback_goes_to_the_escrow_its_payment_funded() -> None:
    webhook = received(Provider.STRIPE, dispute_event("charge.dispute.created"))

    event = translate(webhook, known_escrow_id="esc-5")

    assert isinstance(event, ChargebackOpened)
    assert (event.meta.escrow_id, event.reason) == ("esc-5", "fraudulent")
    assert event.dispute_id.startswith("dp_")


def test_a_closed_chargeback_carries_its_outcome() -> None:
    webhook = received(Provider.STRIPE, dispute_event("charge.dispute.closed", "lost"))

    event = translate(webhook, known_escrow_id="esc-5")

    assert isinstance(event, ChargebackClosed) and event.status == "lost"


def test_a_chargeback_for_a_payment_no_webhook_named_is_malformed() -> None:
    with pytest.raises(MalformedWebhook):
        translate(received(Provider.STRIPE, dispute_event("charge.dispute.created")))


def test_a_reversed_transfer_names_its_escrow_from_the_metadata() -> None:
    transfer = {
        "id": "tr_1",
        "object": "transfer",
        "amount_reversed": 500_000,
        "currency": "usd",
        "metadata": {"escrow_id": "esc-6"},
        "transfer_group": "esc-6",
    }
    body = json.dumps({"id": "evt_r", "type": "transfer.reversed", "data": {"object": transfer}})

    event = translate(received(Provider.STRIPE, body.encode(), "tr_1"))

    assert isinstance(event, TransferReversed)
    assert (event.meta.escrow_id, event.transfer_id) == ("esc-6", "tr_1")
