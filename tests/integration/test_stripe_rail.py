"""The Stripe rail against stripe-mock (the real HTTP server), seen through a recording proxy: the
payment-rail contract (``tests.contract.payment_rail``), then what only Stripe does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

from connectors.payment_rail import PaymentRail
from connectors.stripe_rail import StripeRail
from tests.contract.payment_rail import IdPrefixes, PaymentRailContract
from tests.http_fakes import inject_failures, recording_proxy, serving
from tests.provider_fakes.serve import BackgroundServer

pytestmark = pytest.mark.integration

STRIPE_MOCK = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:12111")


class Proxy(NamedTuple):
    server: BackgroundServer
    recorded: list[dict[str, Any]]


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    app, recorded = recording_proxy(STRIPE_MOCK)
    with serving(app) as server:
        yield Proxy(server, recorded)


@pytest.fixture
def rail(proxy: Proxy) -> StripeRail:
    return StripeRail("sk_test_escrowstreams", proxy.server.url)


class TestStripeRail(PaymentRailContract):
    ids = IdPrefixes(payment="pi_", transfer="tr_", refund="re_")
    destination = "acct_seller"
    server_replays_idempotent_requests = False  # stripe-mock answers every request afresh
    transfers_settle_at_once = True  # a Transfer is final when created
    refunds_settle_at_once = True  # stripe-mock's Refunds are "succeeded"
    proxy: Proxy

    @pytest.fixture(autouse=True)
    def _proxy(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def make_rail(self) -> PaymentRail:
        return StripeRail("sk_test_escrowstreams", self.proxy.server.url)

    def fail_next(self, *statuses: int) -> None:
        inject_failures(self.proxy.server, *statuses)

    def fail_every_request(self, status: int) -> None:
        inject_failures(self.proxy.server, status, forever=True)

    def idempotency_keys_sent(self) -> list[str | None]:
        return [call["idempotency_key"] for call in self.proxy.recorded]


def test_a_payment_is_a_payment_intent_grouped_by_the_escrow(
    rail: StripeRail, proxy: Proxy
) -> None:
    created = rail.create_payment(
        escrow_id="esc-1", amount_cents=500_000, currency="USD", idempotency_key="cmd-1"
    )

    [call] = proxy.recorded
    assert (call["method"], call["path"]) == ("POST", "/v1/payment_intents")
    assert call["form"]["amount"] == "500000"
    assert call["form"]["currency"] == "usd"
    assert call["form"]["transfer_group"] == "esc-1"
    assert call["form"]["metadata[escrow_id]"] == "esc-1"
    assert "_secret_" in created.client_secret and not created.deposit_address


def test_transfer_pays_the_connected_account_from_the_escrow_s_payment(
    rail: StripeRail, proxy: Proxy
) -> None:
    rail.transfer(
        escrow_id="esc-1",
        amount_cents=500_000,
        currency="USD",
        provider_payment_id="pi_123",
        destination="acct_seller",
        idempotency_key="cmd-2",
    )

    retrieve, create = proxy.recorded
    assert (retrieve["method"], retrieve["path"]) == ("GET", "/v1/payment_intents/pi_123")
    assert (create["method"], create["path"]) == ("POST", "/v1/transfers")
    assert create["form"]["destination"] == "acct_seller"
    assert (create["form"]["amount"], create["form"]["transfer_group"]) == ("500000", "esc-1")
    # stripe-mock's PaymentIntents have no charge to tie the transfer to.
    assert "source_transaction" not in create["form"]


def test_refund_returns_the_payment_intent(rail: StripeRail, proxy: Proxy) -> None:
    rail.refund(
        escrow_id="esc-1",
        amount_cents=500_000,
        currency="USD",
        provider_payment_id="pi_123",
        idempotency_key="cmd-3",
    )

    [call] = proxy.recorded
    assert (call["method"], call["path"]) == ("POST", "/v1/refunds")
    assert (call["form"]["payment_intent"], call["form"]["amount"]) == ("pi_123", "500000")
    assert call["form"]["metadata[escrow_id]"] == "esc-1"
