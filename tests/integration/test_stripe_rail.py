"""The Stripe rail against stripe-mock (the real HTTP server), seen through a recording proxy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.exceptions import PermanentError, TransientError
from connectors.retry import with_retries
from connectors.stripe_rail import StripeRail
from tests.http_fakes import recording_proxy, serving
from tests.provider_fakes.serve import BackgroundServer

pytestmark = pytest.mark.integration

STRIPE_MOCK = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:12111")


@pytest.fixture
def proxy() -> Iterator[tuple[BackgroundServer, list[dict[str, Any]]]]:
    app, recorded = recording_proxy(STRIPE_MOCK)
    with serving(app) as server:
        yield server, recorded


@pytest.fixture
def rail(proxy: tuple[BackgroundServer, list[dict[str, Any]]]) -> StripeRail:
    return StripeRail("sk_test_escrowstreams", proxy[0].url)


def test_create_payment_sends_a_payment_intent_with_the_idempotency_key(
    rail: StripeRail, proxy: tuple[BackgroundServer, list[dict[str, Any]]]
) -> None:
    created = rail.create_payment(
        escrow_id="esc-1", amount_cents=500_000, currency="USD", idempotency_key="cmd-1"
    )

    [call] = proxy[1]
    assert (call["method"], call["path"], call["idempotency_key"]) == (
        "POST",
        "/v1/payment_intents",
        "cmd-1",
    )
    assert call["form"]["amount"] == "500000"
    assert call["form"]["currency"] == "usd"
    assert call["form"]["transfer_group"] == "esc-1"
    assert call["form"]["metadata[escrow_id]"] == "esc-1"
    assert created.provider_payment_id.startswith("pi_")
    assert "_secret_" in created.client_secret


def test_transfer_pays_the_connected_account_from_the_escrow_s_payment(
    rail: StripeRail, proxy: tuple[BackgroundServer, list[dict[str, Any]]]
) -> None:
    transfer_id = rail.transfer(
        escrow_id="esc-1",
        amount_cents=500_000,
        currency="USD",
        provider_payment_id="pi_123",
        destination="acct_seller",
        idempotency_key="cmd-2",
    )

    retrieve, create = proxy[1]
    assert (retrieve["method"], retrieve["path"]) == ("GET", "/v1/payment_intents/pi_123")
    assert (create["path"], create["idempotency_key"]) == ("/v1/transfers", "cmd-2")
    assert create["form"]["destination"] == "acct_seller"
    assert (create["form"]["amount"], create["form"]["transfer_group"]) == ("500000", "esc-1")
    assert transfer_id.startswith("tr_")


def test_refund_returns_the_payment_intent(
    rail: StripeRail, proxy: tuple[BackgroundServer, list[dict[str, Any]]]
) -> None:
    refund_id = rail.refund(
        escrow_id="esc-1",
        amount_cents=500_000,
        currency="USD",
        provider_payment_id="pi_123",
        idempotency_key="cmd-3",
    )

    [call] = proxy[1]
    assert (call["path"], call["idempotency_key"]) == ("/v1/refunds", "cmd-3")
    assert (call["form"]["payment_intent"], call["form"]["amount"]) == ("pi_123", "500000")
    assert refund_id.startswith("re_")


def _fail(proxy: BackgroundServer, statuses: list[int], forever: bool = False) -> None:
    httpx.post(f"{proxy.url}/_fake/fail", json={"statuses": statuses, "forever": forever})


def test_two_503s_then_success_succeeds_after_retries(
    rail: StripeRail, proxy: tuple[BackgroundServer, list[dict[str, Any]]]
) -> None:
    _fail(proxy[0], [503, 503])

    created = with_retries(
        lambda: rail.create_payment(
            escrow_id="esc-1", amount_cents=100, currency="USD", idempotency_key="cmd-4"
        )
    )

    assert created.provider_payment_id.startswith("pi_")
    assert [c["idempotency_key"] for c in proxy[1]] == ["cmd-4"] * 3


def test_a_400_is_permanent_and_not_retried(
    rail: StripeRail, proxy: tuple[BackgroundServer, list[dict[str, Any]]]
) -> None:
    _fail(proxy[0], [400])

    with pytest.raises(PermanentError):
        with_retries(
            lambda: rail.refund(
                escrow_id="esc-1",
                amount_cents=100,
                currency="USD",
                provider_payment_id="pi_1",
                idempotency_key="cmd-5",
            ),
            sleep=lambda s: None,
        )
    assert len(proxy[1]) == 1


def test_a_provider_that_never_recovers_fails_after_five_tries(
    rail: StripeRail, proxy: tuple[BackgroundServer, list[dict[str, Any]]]
) -> None:
    _fail(proxy[0], [503], forever=True)

    with pytest.raises(TransientError):
        with_retries(
            lambda: rail.create_payment(
                escrow_id="esc-1", amount_cents=100, currency="USD", idempotency_key="cmd-6"
            ),
            sleep=lambda s: None,
        )
    assert len(proxy[1]) == 5
