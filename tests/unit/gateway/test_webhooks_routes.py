"""Provider webhooks (POST /api/webhooks/stripe, /api/webhooks/custodian): a verified event that
moves an escrow goes to webhook.events.v1 keyed by its payment id, and only then is answered 200;
anything the provider should not retry is 200 unforwarded, anything it should is 4xx/5xx."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from starlette.testclient import TestClient

from connectors import custodian
from connectors.topics import WEBHOOK_EVENTS
from gateway.ports import PublishError
from schemas.webhooks.v1.events_pb2 import Provider, WebhookEvent
from tests.fakes import FakePublisher
from tests.provider_fakes.provider_webhooks import (
    JSON,
    deposit_confirmed,
    stripe_event,
    stripe_signature,
)
from tests.unit.gateway.support import CUSTODIAN_SECRET, ESCROW_ID, STRIPE_SECRET, assert_problem

STRIPE_PATH = "/api/webhooks/stripe"
CUSTODIAN_PATH = "/api/webhooks/custodian"
INTENT_ID = "pi_test_1"
DEPOSIT_ID = "dep_test_1"


def post_stripe(
    client: TestClient, body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None
) -> httpx.Response:
    signature = stripe_signature(secret, body, timestamp)
    answer: httpx.Response = client.post(
        STRIPE_PATH, content=body, headers={"Stripe-Signature": signature, **JSON}
    )
    return answer


def post_custodian(
    client: TestClient, body: bytes, secret: str = CUSTODIAN_SECRET, timestamp: int | None = None
) -> httpx.Response:
    signature = custodian.sign(secret, body, timestamp)
    answer: httpx.Response = client.post(
        CUSTODIAN_PATH, content=body, headers={custodian.SIGNATURE_HEADER: signature, **JSON}
    )
    return answer


def the_published_event(publisher: FakePublisher, key: str) -> WebhookEvent:
    [(topic, sent_key, record)] = publisher.sent
    assert (topic, sent_key) == (WEBHOOK_EVENTS, key)
    assert isinstance(record, WebhookEvent)
    return record


class TestStripe:
    @pytest.mark.parametrize("kind", ["payment_intent.succeeded", "payment_intent.payment_failed"])
    def test_a_signed_payment_event_is_forwarded_keyed_by_the_intent(
        self, client: TestClient, publisher: FakePublisher, kind: str
    ) -> None:
        body = stripe_event(kind, INTENT_ID, ESCROW_ID, 500_000)

        answer = post_stripe(client, body)

        assert answer.status_code == 200
        assert answer.json() == {"received": True, "forwarded": True}
        received = the_published_event(publisher, INTENT_ID).webhook_received
        event = json.loads(body)
        assert received.provider == Provider.PROVIDER_STRIPE
        assert (received.provider_event_id, received.event_type) == (event["id"], kind)
        assert received.provider_payment_id == INTENT_ID
        assert received.payload == body

    def test_the_event_id_names_the_provider(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = stripe_event("payment_intent.succeeded", INTENT_ID, ESCROW_ID, 500_000)

        post_stripe(client, body)

        record = the_published_event(publisher, INTENT_ID)
        assert record.meta.event_id == f"stripe:{json.loads(body)['id']}"
        assert record.webhook_received.received_at == record.meta.occurred_at

    def test_an_event_type_that_moves_no_escrow_is_acknowledged_and_not_forwarded(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = stripe_event("payment_intent.created", INTENT_ID, ESCROW_ID, 500_000)

        answer = post_stripe(client, body)

        assert answer.status_code == 200
        assert answer.json() == {"received": True, "forwarded": False}
        assert publisher.sent == []

    @pytest.mark.parametrize(
        ("secret", "age_s"),
        [("whsec_somebody_else", 0), (STRIPE_SECRET, 600)],
        ids=["wrong-secret", "replayed"],
    )
    def test_a_bad_signature_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, secret: str, age_s: int
    ) -> None:
        body = stripe_event("payment_intent.succeeded", INTENT_ID, ESCROW_ID, 500_000)

        answer = post_stripe(client, body, secret, int(time.time()) - age_s)

        assert_problem(answer, 400, "invalid-signature")
        assert publisher.sent == []

    def test_an_unsigned_webhook_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = stripe_event("payment_intent.succeeded", INTENT_ID, ESCROW_ID, 500_000)

        answer = client.post(STRIPE_PATH, content=body, headers=JSON)

        assert_problem(answer, 400, "invalid-signature")
        assert publisher.sent == []

    def test_a_body_changed_after_signing_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = stripe_event("payment_intent.succeeded", INTENT_ID, ESCROW_ID, 500_000)
        signature = stripe_signature(STRIPE_SECRET, body)
        tampered = body.replace(b"500000", b"900000")

        headers = {"Stripe-Signature": signature, **JSON}
        answer = client.post(STRIPE_PATH, content=tampered, headers=headers)

        assert_problem(answer, 400, "invalid-signature")
        assert publisher.sent == []

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"[]",
            b'{"type": "payment_intent.succeeded"}',
            b'{"id": "evt_1"}',
            b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}',
            b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": null}',
            b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": "pi_1"}}',
            b'{"id": 7, "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}',
            b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": 7}}}',
        ],
        ids=[
            "not-json",
            "not-an-object",
            "no-id",
            "no-type",
            "no-payment",
            "null-data",
            "string-object",
            "numeric-id",
            "numeric-payment",
        ],
    )
    def test_a_signed_but_malformed_event_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, body: bytes
    ) -> None:
        answer = post_stripe(client, body)

        assert_problem(answer, 400, "malformed-webhook")
        assert publisher.sent == []

    def test_a_publish_failure_is_a_503_problem_so_stripe_retries(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        publisher.fail_with = PublishError("not acknowledged in time")
        body = stripe_event("payment_intent.succeeded", INTENT_ID, ESCROW_ID, 500_000)

        answer = post_stripe(client, body)

        assert_problem(answer, 503, "unavailable")
        assert publisher.sent == []


class TestCustodian:
    def test_a_signed_deposit_confirmation_is_forwarded_keyed_by_the_deposit(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = deposit_confirmed(DEPOSIT_ID, ESCROW_ID, "0xbuyer", 2_500_000)

        answer = post_custodian(client, body)

        assert answer.status_code == 200
        assert answer.json() == {"received": True, "forwarded": True}
        record = the_published_event(publisher, DEPOSIT_ID)
        received = record.webhook_received
        assert record.meta.event_id == f"custodian:{json.loads(body)['id']}"
        assert received.provider == Provider.PROVIDER_CUSTODIAN
        assert (received.event_type, received.provider_payment_id) == (
            "deposit.confirmed",
            DEPOSIT_ID,
        )
        assert received.payload == body

    def test_an_event_type_that_moves_no_escrow_is_acknowledged_and_not_forwarded(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = json.dumps(
            {"id": "evt_2", "type": "deposit.detected", "data": {"deposit_id": DEPOSIT_ID}}
        ).encode()

        answer = post_custodian(client, body)

        assert answer.status_code == 200
        assert answer.json() == {"received": True, "forwarded": False}
        assert publisher.sent == []

    @pytest.mark.parametrize(
        ("secret", "age_s"),
        [("somebody_else", 0), (CUSTODIAN_SECRET, 600)],
        ids=["wrong-secret", "replayed"],
    )
    def test_a_bad_signature_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, secret: str, age_s: int
    ) -> None:
        body = deposit_confirmed(DEPOSIT_ID, ESCROW_ID, "0xbuyer", 2_500_000)

        answer = post_custodian(client, body, secret, int(time.time()) - age_s)

        assert_problem(answer, 400, "invalid-signature")
        assert publisher.sent == []

    def test_an_unsigned_webhook_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        body = deposit_confirmed(DEPOSIT_ID, ESCROW_ID, "0xbuyer", 2_500_000)

        answer = client.post(CUSTODIAN_PATH, content=body, headers=JSON)

        assert_problem(answer, 400, "invalid-signature")
        assert publisher.sent == []

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b'{"id": "evt_1", "type": "deposit.confirmed", "data": {}}',
            b'{"id": "evt_1", "type": "deposit.confirmed", "data": "dep_1"}',
            b'{"id": "evt_1", "type": "deposit.confirmed", "data": {"deposit_id": 7}}',
        ],
        ids=["not-json", "no-deposit", "string-data", "numeric-deposit"],
    )
    def test_a_signed_but_malformed_event_is_a_400_problem(
        self, client: TestClient, publisher: FakePublisher, body: bytes
    ) -> None:
        answer = post_custodian(client, body)

        assert_problem(answer, 400, "malformed-webhook")
        assert publisher.sent == []

    def test_a_publish_failure_is_a_503_problem_so_the_custodian_retries(
        self, client: TestClient, publisher: FakePublisher
    ) -> None:
        publisher.fail_with = PublishError("not acknowledged in time")
        body = deposit_confirmed(DEPOSIT_ID, ESCROW_ID, "0xbuyer", 2_500_000)

        answer = post_custodian(client, body)

        assert_problem(answer, 503, "unavailable")
        assert publisher.sent == []
