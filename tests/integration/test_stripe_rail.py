"""The Stripe rail against stripe-mock (the real HTTP server) behind the recording proxy that keeps
what Stripe would (``tests.provider_fakes.stripe_recorder``): the payment-rail contract
(``tests.contract.payment_rail``), then what only Stripe does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.payment_rail import CreatedPayment, PaymentRail
from connectors.stripe_rail import StripeRail
from tests.contract.payment_rail import IdPrefixes, PaymentRailContract
from tests.http_fakes import calls, fake, inject_failures
from tests.provider_fakes.serve import BackgroundServer

pytestmark = pytest.mark.integration

STRIPE_MOCK = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:12111")


@pytest.fixture
def proxy() -> Iterator[BackgroundServer]:
    with fake("stripe_recorder", upstream=STRIPE_MOCK) as server:
        yield server


@pytest.fixture
def rail(proxy: BackgroundServer) -> StripeRail:
    return StripeRail("sk_test_escrowstreams", proxy.url)


def sent(proxy: BackgroundServer) -> list[dict[str, Any]]:
    """The requests the proxy received, form bodies decoded."""
    return calls(proxy)


class TestStripeRail(PaymentRailContract):
    ids = IdPrefixes(payment="pi_", transfer="tr_", refund="re_")
    destination = "acct_seller"
    server_replays_idempotent_requests = True  # the recorder replays, as Stripe does
    transfers_settle_at_once = True  # a Transfer is final when created
    refunds_settle_at_once = True  # stripe-mock's Refunds are "succeeded"
    payment_succeeded_event = "payment_intent.succeeded"
    proxy: BackgroundServer

    @pytest.fixture(autouse=True)
    def _proxy(self, proxy: BackgroundServer) -> None:
        self.proxy = proxy

    def make_rail(self) -> PaymentRail:
        return StripeRail("sk_test_escrowstreams", self.proxy.url)

    def fail_next(self, *statuses: int) -> None:
        inject_failures(self.proxy, *statuses)

    def fail_every_request(self, status: int) -> None:
        inject_failures(self.proxy, status, forever=True)

    def pay_in(self, payment: CreatedPayment, amount_cents: int) -> None:
        paid = {"status": "succeeded", "amount_received": amount_cents}
        url = f"{self.proxy.url}/_fake/objects/{payment.provider_payment_id}"
        httpx.post(url, json=paid).raise_for_status()

    def idempotency_keys_sent(self) -> list[str | None]:
        return [call["idempotency_key"] for call in calls(self.proxy)]


def test_a_payment_is_a_payment_intent_grouped_by_the_escrow(
    rail: StripeRail, proxy: BackgroundServer
) -> None:
    created = rail.create_payment(
        escrow_id="esc-1", amount_cents=500_000, currency="USD", idempotency_key="cmd-1"
    )

    [call] = sent(proxy)
    assert (call["method"], call["path"]) == ("POST", "/v1/payment_intents")
    assert call["body"]["amount"] == "500000"
    assert call["body"]["currency"] == "usd"
    assert call["body"]["transfer_group"] == "esc-1"
    assert call["body"]["metadata[escrow_id]"] == "esc-1"
    assert "_secret_" in created.client_secret and not created.deposit_address


def test_transfer_pays_the_connected_account_from_the_escrow_s_payment(
    rail: StripeRail, proxy: BackgroundServer
) -> None:
    payment = rail.create_payment(
        escrow_id="esc-1", amount_cents=500_000, currency="USD", idempotency_key="cmd-1"
    )

    rail.transfer(
        escrow_id="esc-1",
        amount_cents=500_000,
        currency="USD",
        provider_payment_id=payment.provider_payment_id,
        destination="acct_seller",
        idempotency_key="cmd-2",
    )

    _, retrieve, create = sent(proxy)
    intent_path = f"/v1/payment_intents/{payment.provider_payment_id}"
    assert (retrieve["method"], retrieve["path"]) == ("GET", intent_path)
    assert (create["method"], create["path"]) == ("POST", "/v1/transfers")
    assert create["body"]["destination"] == "acct_seller"
    assert (create["body"]["amount"], create["body"]["transfer_group"]) == ("500000", "esc-1")
    # stripe-mock's PaymentIntents have no charge to tie the transfer to.
    assert "source_transaction" not in create["body"]


def test_refund_returns_the_payment_intent(rail: StripeRail, proxy: BackgroundServer) -> None:
    rail.refund(
        escrow_id="esc-1",
        amount_cents=500_000,
        currency="USD",
        provider_payment_id="pi_123",
        idempotency_key="cmd-3",
    )

    [call] = sent(proxy)
    assert (call["method"], call["path"]) == ("POST", "/v1/refunds")
    assert (call["body"]["payment_intent"], call["body"]["amount"]) == ("pi_123", "500000")
    assert call["body"]["metadata[escrow_id]"] == "esc-1"
