"""Webhooks end to end on the real broker: the gateway's endpoints over HTTP (real Starlette app,
real Kafka producer), then the webhooks topology process with the screening and custodian fakes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.custodian import SIGNATURE_HEADER, sign
from connectors.topics import PAYMENTS_EVENTS, WEBHOOK_EVENTS
from gateway.app import create_app
from gateway.auth import Authenticator
from gateway.publisher import KafkaPublisher
from gateway.settings import GatewaySettings
from kernel import mapping
from kernel.messages import (
    PaymentEvent,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentSucceeded,
)
from state_stores.ledger_table import LedgerTable
from state_stores.view_table import ViewTable
from tests.builders import random_escrow_id
from tests.http_fakes import fake, serving
from tests.integration.conftest import ProcessFactory
from tests.kafka import Tail
from tests.provider_fakes.provider_webhooks import (
    JSON,
    deposit_confirmed,
    stripe_event,
    stripe_signature,
)
from tests.provider_fakes.serve import BackgroundServer

pytestmark = pytest.mark.integration

STRIPE_SECRET = "whsec_test_secret"
CUSTODIAN_SECRET = "custodian_test_secret"


@pytest.fixture
def gateway(bootstrap_servers: str, tmp_path: Path) -> Iterator[BackgroundServer]:
    settings = GatewaySettings(
        kafka_bootstrap_servers=bootstrap_servers,
        stripe_webhook_secret=STRIPE_SECRET,  # type: ignore[arg-type]
        custodian_webhook_secret=CUSTODIAN_SECRET,  # type: ignore[arg-type]
    )
    publisher = KafkaPublisher(bootstrap_servers, None, settings.publish_timeout_s)
    views = ViewTable(bootstrap_servers, tmp_path / "views")
    auth = Authenticator(settings.jwt_hs256_key.get_secret_value())
    ledger = LedgerTable(bootstrap_servers, tmp_path / "ledger")
    with serving(create_app(settings, publisher, views, auth, ledger)) as server:
        yield server


def post_stripe(
    gateway: BackgroundServer,
    body: bytes,
    secret: str = STRIPE_SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    headers = {
        "Stripe-Signature": stripe_signature(secret, body, timestamp),
        **JSON,
    }
    return httpx.post(f"{gateway.url}/api/webhooks/stripe", content=body, headers=headers)


def post_custodian(gateway: BackgroundServer, body: bytes) -> httpx.Response:
    headers = {SIGNATURE_HEADER: sign(CUSTODIAN_SECRET, body), **JSON}
    return httpx.post(f"{gateway.url}/api/webhooks/custodian", content=body, headers=headers)


class TestEndpoints:
    def test_a_verified_webhook_is_produced_once_keyed_by_payment(
        self, gateway: BackgroundServer, bootstrap_servers: str
    ) -> None:
        tail = Tail(bootstrap_servers, WEBHOOK_EVENTS)
        intent_id = f"pi_{uuid.uuid4().hex[:16]}"

        answer = post_stripe(gateway, stripe_event("payment_intent.succeeded", intent_id, "e", 100))

        assert answer.status_code == 200
        [record] = tail.wait_for(lambda rs: any(r.key() == intent_id.encode() for r in rs))
        envelope = tail.decode(record)
        assert envelope.webhook_received.event_type == "payment_intent.succeeded"
        tail.close()

    @pytest.mark.parametrize(
        "forge",
        [
            lambda gw, body: post_stripe(gw, body, secret="whsec_wrong"),
            lambda gw, body: httpx.post(
                f"{gw.url}/api/webhooks/stripe",
                content=body.replace(b"100", b"999"),
                headers={
                    "Stripe-Signature": stripe_signature(STRIPE_SECRET, body),
                    **JSON,
                },
            ),
            lambda gw, body: post_stripe(gw, body, timestamp=int(time.time()) - 3600),
            lambda gw, body: httpx.post(
                f"{gw.url}/api/webhooks/stripe", content=body, headers=JSON
            ),
        ],
        ids=["wrong-secret", "tampered-body", "stale-timestamp", "no-signature"],
    )
    def test_a_forged_webhook_gets_400_and_nothing_is_produced(
        self, gateway: BackgroundServer, bootstrap_servers: str, forge: Any
    ) -> None:
        tail = Tail(bootstrap_servers, WEBHOOK_EVENTS)
        forged_id, marker_id = f"pi_{uuid.uuid4().hex[:16]}", f"pi_{uuid.uuid4().hex[:16]}"

        answer = forge(gateway, stripe_event("payment_intent.succeeded", forged_id, "e", 100))
        post_stripe(gateway, stripe_event("payment_intent.succeeded", marker_id, "e", 100))
        records = tail.wait_for(lambda rs: any(r.key() == marker_id.encode() for r in rs))

        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/invalid-signature"
        assert not [r for r in records if r.key() == forged_id.encode()]
        tail.close()

    def test_a_forged_custodian_webhook_gets_400(self, gateway: BackgroundServer) -> None:
        body = deposit_confirmed("dep_1", "e", "0xabc", 100)
        headers = {SIGNATURE_HEADER: sign("wrong", body), **JSON}

        answer = httpx.post(f"{gateway.url}/api/webhooks/custodian", content=body, headers=headers)

        assert answer.status_code == 400


class PaymentEvents:
    def __init__(self, bootstrap: str) -> None:
        self.tail = Tail(bootstrap, PAYMENTS_EVENTS)

    def of(self, escrow_id: str) -> list[PaymentEvent]:
        return [mapping.PAYMENT_EVENTS.to_domain(e) for e in self.tail.envelopes(escrow_id)]

    def wait(self, escrow_id: str, kind: type) -> Any:
        self.tail.wait_for(lambda _: any(isinstance(e, kind) for e in self.of(escrow_id)))
        return next(e for e in self.of(escrow_id) if isinstance(e, kind))


@pytest.fixture
def screening() -> Iterator[BackgroundServer]:
    with fake("screening") as server:
        yield server


@pytest.fixture
def custodian() -> Iterator[BackgroundServer]:
    with fake("custodian") as server:
        yield server


@pytest.fixture
def webhooks_topology(
    start_topology: ProcessFactory, screening: BackgroundServer, custodian: BackgroundServer
) -> None:
    start_topology(
        "webhooks",
        TRM_URL=screening.url,
        CHAINALYSIS_URL=screening.url,
        CUSTODIAN_URL=custodian.url,
    )


@pytest.mark.usefixtures("webhooks_topology")
class TestWebhooksTopology:
    def test_the_same_webhook_three_times_is_one_payment_succeeded(
        self, gateway: BackgroundServer, bootstrap_servers: str
    ) -> None:
        events = PaymentEvents(bootstrap_servers)
        escrow_id, intent_id = random_escrow_id(), f"pi_{uuid.uuid4().hex[:16]}"
        body = stripe_event("payment_intent.succeeded", intent_id, escrow_id, 500_000)

        for _ in range(3):
            assert post_stripe(gateway, body).status_code == 200
        # A later event of the same payment: once it shows, the three copies were handled.
        post_stripe(gateway, stripe_event("payment_intent.payment_failed", intent_id, escrow_id, 1))
        events.wait(escrow_id, PaymentFailed)

        assert sum(isinstance(e, PaymentSucceeded) for e in events.of(escrow_id)) == 1
        events.tail.close()

    @pytest.mark.parametrize(
        ("risk", "sanctioned", "outcome"),
        [
            (95, False, PaymentFailed),
            (10, True, PaymentFailed),
            (65, False, PaymentHeldForReview),
            (10, False, PaymentSucceeded),
        ],
    )
    def test_a_usdc_deposit_is_settled_by_screening_the_wallet(
        self,
        gateway: BackgroundServer,
        screening: BackgroundServer,
        custodian: BackgroundServer,
        bootstrap_servers: str,
        risk: int,
        sanctioned: bool,
        outcome: type,
    ) -> None:
        events = PaymentEvents(bootstrap_servers)
        escrow_id, deposit_id = random_escrow_id(), f"dep_{uuid.uuid4().hex[:16]}"
        wallet = f"0x{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
        httpx.post(
            f"{screening.url}/_fake/wallets",
            json={"address": wallet, "risk_score": risk, "sanctioned": sanctioned},
        )

        post_custodian(gateway, deposit_confirmed(deposit_id, escrow_id, wallet, 2_500_000))
        event = events.wait(escrow_id, outcome)

        returns = [
            o
            for o in httpx.get(f"{custodian.url}/_fake/objects").json()
            if o.get("deposit_id") == deposit_id
        ]
        assert [type(e) for e in events.of(escrow_id)] == [outcome]
        assert len(returns) == (1 if outcome is PaymentFailed else 0)
        if outcome is PaymentFailed:
            assert event.failure_code.startswith("DEPOSIT_RETURNED")
        events.tail.close()

    def test_one_on_chain_deposit_under_two_event_ids_is_screened_and_reported_once(
        self,
        gateway: BackgroundServer,
        screening: BackgroundServer,
        custodian: BackgroundServer,
        bootstrap_servers: str,
    ) -> None:
        """A deposit reconciliation recovered, then its late real webhook: a high-risk one is
        returned once and counted as one failed payment."""
        events = PaymentEvents(bootstrap_servers)
        escrow_id, deposit_id = random_escrow_id(), f"dep_{uuid.uuid4().hex[:16]}"
        wallet, tx_hash = f"0x{uuid.uuid4().hex}", f"0x{uuid.uuid4().hex}"
        httpx.post(f"{screening.url}/_fake/wallets", json={"address": wallet, "risk_score": 95})

        for _ in range(2):  # each with its own event id
            body = deposit_confirmed(deposit_id, escrow_id, wallet, 2_500_000, tx_hash=tx_hash)
            assert post_custodian(gateway, body).status_code == 200
        # A later event of the same payment: once it shows, both copies were handled.
        other = deposit_confirmed(deposit_id, escrow_id, f"0x{uuid.uuid4().hex}", 1)
        post_custodian(gateway, other)
        events.tail.wait_for(lambda _: len(events.of(escrow_id)) >= 2)

        returns = [
            o
            for o in httpx.get(f"{custodian.url}/_fake/objects").json()
            if o.get("deposit_id") == deposit_id
        ]
        assert [type(e) for e in events.of(escrow_id)] == [PaymentFailed, PaymentSucceeded]
        assert len(returns) == 1
        events.tail.close()
