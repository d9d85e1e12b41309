"""Provider webhooks (DESIGN.md §5; seeds: "Webhook Security"): verify the signature, produce the
verified event to ``webhook.events.v1`` keyed by provider payment id, answer 2xx only once Kafka
acknowledged it (a provider retries anything else, so nothing is lost)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors import custodian
from connectors.topics import WEBHOOK_EVENTS
from connectors.webhook_records import provider_name, webhook_record
from gateway.ports import PublishError, publisher, settings
from gateway.problems import Problem
from gateway.responses import JSONResponse
from schemas.webhooks.v1.events_pb2 import Provider

logger = logging.getLogger(__name__)

WEBHOOKS = Counter("gateway_webhooks_total", "Webhooks received", ["provider", "outcome"])
# Provider events that move an escrow (payments, and payouts confirmed later); others are
# acknowledged and not forwarded.
STRIPE_TYPES = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.closed",
    "transfer.reversed",
}
CUSTODIAN_TYPES = {
    "deposit.confirmed",
    "transfer.completed",
    "transfer.failed",
    "return.completed",
    "return.failed",
}
SIGNATURE_TOLERANCE_S = 300


async def stripe_webhook(request: Request) -> Response:
    """
    summary: Stripe webhook (Stripe-Signature verified); 200 once stored in Kafka
    responses:
      200: {description: stored or ignored}
      400: {description: bad signature}
      415: {description: not application/json}
    """
    body = await _json_body(request)
    secret = settings(request).stripe_webhook_secret.get_secret_value()
    try:
        stripe.WebhookSignature.verify_header(
            body.decode(),
            request.headers.get("stripe-signature", ""),
            secret,
            SIGNATURE_TOLERANCE_S,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        WEBHOOKS.labels("stripe", "bad_signature").inc()
        raise Problem(
            400, "invalid-signature", "Webhook signature verification failed", str(exc)
        ) from exc
    event = _json(body, "stripe")
    # Keyed by the payment, so a refund's events follow its PaymentIntent's.
    obj = event["data"].get("object")
    payment_id = _text(obj, "payment_intent") or _text(obj, "id")
    return await _forward(request, Provider.PROVIDER_STRIPE, event, STRIPE_TYPES, payment_id, body)


async def custodian_webhook(request: Request) -> Response:
    """
    summary: Custodian webhook (HMAC-SHA256 verified); 200 once stored in Kafka
    responses:
      200: {description: stored or ignored}
      400: {description: bad signature}
      415: {description: not application/json}
    """
    body = await _json_body(request)
    secret = settings(request).custodian_webhook_secret.get_secret_value()
    try:
        custodian.verify(secret, body, request.headers.get(custodian.SIGNATURE_HEADER, ""))
    except ValueError as exc:
        WEBHOOKS.labels("custodian", "bad_signature").inc()
        raise Problem(
            400, "invalid-signature", "Webhook signature verification failed", str(exc)
        ) from exc
    event = _json(body, "custodian")
    payment_id = _text(event["data"], "deposit_id")
    return await _forward(
        request, Provider.PROVIDER_CUSTODIAN, event, CUSTODIAN_TYPES, payment_id, body
    )


async def _json_body(request: Request) -> bytes:
    """The raw body of a webhook, which both providers send as JSON.

    :raises Problem: 415 for another content type."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(
            415, "unsupported-media-type", "Webhooks are application/json", media_type or "none"
        )
    return await request.body()


def _json(body: bytes, provider: str) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError as exc:
        WEBHOOKS.labels(provider, "malformed").inc()
        raise Problem(400, "malformed-webhook", "The body is not JSON") from exc
    if (
        not isinstance(event, dict)
        or not _text(event, "id")
        or not _text(event, "type")
        or not isinstance(event.get("data"), dict)
    ):
        WEBHOOKS.labels(provider, "malformed").inc()
        raise Problem(400, "malformed-webhook", "The event needs a string id and type, and data")
    return event


def _text(container: Any, name: str) -> str:
    """``container[name]`` if ``container`` is an object and that a string, else ""."""
    value = container.get(name) if isinstance(container, dict) else None
    return value if isinstance(value, str) else ""


async def _forward(
    request: Request,
    provider: Provider.ValueType,
    event: dict[str, Any],
    forwarded_types: set[str],
    payment_id: str,
    body: bytes,
) -> Response:
    name = provider_name(provider)
    if event["type"] not in forwarded_types:
        WEBHOOKS.labels(name, "ignored").inc()
        return JSONResponse({"received": True, "forwarded": False})
    if not payment_id:
        WEBHOOKS.labels(name, "malformed").inc()
        raise Problem(400, "malformed-webhook", "The event names no payment")
    record = webhook_record(
        provider, event["id"], event["type"], payment_id, body, datetime.now(UTC)
    )
    try:
        await publisher(request).publish(WEBHOOK_EVENTS, payment_id, record)
    except PublishError as exc:
        WEBHOOKS.labels(name, "unavailable").inc()
        logger.error("webhook %s not stored: %s", event["id"], exc)
        raise Problem(503, "unavailable", "The event could not be stored; retry later") from exc
    WEBHOOKS.labels(name, "forwarded").inc()
    return JSONResponse({"received": True, "forwarded": True})


routes = [
    Route("/api/webhooks/stripe", stripe_webhook, methods=["POST"]),
    Route("/api/webhooks/custodian", custodian_webhook, methods=["POST"]),
]
