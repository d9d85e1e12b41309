"""The webhooks topology: ``webhook.events.v1`` (key provider payment id) -> deduplicated by
provider event id -> (USDC deposits: wallet screening) -> ``payments.events.v1`` (key escrow id),
exactly-once (DESIGN.md §5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import SecretStr
from quixstreams import Application
from quixstreams.state import State

from connectors.custodian import CustodianRail
from connectors.exceptions import ConnectorError
from connectors.kafka_serdes import schema_registry
from connectors.screening import ChainalysisClient, TrmClient, WalletScreener
from connectors.topics import PAYMENTS_EVENTS, WEBHOOK_EVENTS
from kernel import mapping
from kernel.mapping import EnvelopeMapper
from schemas.payments.v1.events_pb2 import PaymentEvent
from schemas.webhooks.v1.events_pb2 import WebhookEvent
from topologies import metrics
from topologies.records import Decoder, Output, Record, decoded
from topologies.settings import TopologySettings
from topologies.webhooks.screening import DepositReturner, Screener, settle
from topologies.webhooks.translate import (
    DepositToScreen,
    MalformedWebhook,
    WebhookReceived,
    translate,
)
from topologies.wiring import application, input_topic, route_outputs, run

NAME = "webhooks"
# Providers redeliver for days (Stripe: up to 3 days); remember event ids a week.
SEEN_TTL = timedelta(days=7)
# Per provider payment (the topic's key): the escrow its webhooks named, for those that do not.
ESCROW_OF_PAYMENT = "escrow"


class WebhooksSettings(TopologySettings):
    """Environment: ``TRM_URL``, ``TRM_API_KEY``, ``CHAINALYSIS_URL``, ``CHAINALYSIS_API_KEY``,
    ``CUSTODIAN_URL``, ``CUSTODIAN_API_KEY``, ``PROVIDER_TIMEOUT_S`` (2)."""

    trm_url: str = "http://127.0.0.1:12302"
    trm_api_key: SecretStr = SecretStr("trm-dev-key")
    chainalysis_url: str = "http://127.0.0.1:12302"
    chainalysis_api_key: SecretStr = SecretStr("chainalysis-dev-key")
    custodian_url: str = "http://127.0.0.1:12301"
    custodian_api_key: SecretStr = SecretStr("custodian-dev-key")
    provider_timeout_s: float = 2.0
    transaction_timeout_ms: int = 30_000

    def screener(self) -> WalletScreener:
        timeout = self.provider_timeout_s
        return WalletScreener(
            TrmClient(self.trm_url, self.trm_api_key.get_secret_value(), timeout),
            ChainalysisClient(
                self.chainalysis_url, self.chainalysis_api_key.get_secret_value(), timeout
            ),
        )

    def custodian(self) -> CustodianRail:
        return CustodianRail(
            self.custodian_url, self.custodian_api_key.get_secret_value(), self.provider_timeout_s
        )


def webhooks_handler(
    screener: Screener, custodian: DepositReturner, sleep: Callable[[float], None] = time.sleep
) -> Callable[..., Output]:
    """One verified webhook in, at most one payment event (keyed by escrow) out; a provider
    event id already handled is ignored, and one that cannot be settled is dead-lettered."""

    def handle(webhook: WebhookReceived, record: Record, state: State[str, bytes]) -> Output:
        seen_key = f"seen/{webhook.meta.event_id}"
        if state.get_bytes(seen_key) is not None:
            metrics.WEBHOOK_EVENTS.labels(webhook.event_type, "duplicate").inc()
            return Output()
        known = state.get_bytes(ESCROW_OF_PAYMENT)
        try:
            translation = translate(webhook, known.decode() if known else "")
            deposit_key = _deposit_key(translation)
            if deposit_key and state.get_bytes(deposit_key) is not None:
                # The same on-chain deposit under another event id (a webhook reconciliation
                # recovered, then the late real one): screened and settled already.
                state.set_bytes(seen_key, b"1", ttl=SEEN_TTL)
                metrics.WEBHOOK_EVENTS.labels(webhook.event_type, "duplicate").inc()
                return Output()
            event = _payment_event(translation, screener, custodian, sleep)
        except (MalformedWebhook, ConnectorError) as exc:
            return Output(dead_letter=record.dead_letter(exc))
        state.set_bytes(seen_key, b"1", ttl=SEEN_TTL)
        if deposit_key:
            state.set_bytes(deposit_key, b"1", ttl=SEEN_TTL)
        if event is not None and not known:  # for the payment's later webhooks (chargebacks)
            state.set_bytes(ESCROW_OF_PAYMENT, event.meta.escrow_id.encode())
        outcome = type(event).__name__ if event else "ignored"
        metrics.WEBHOOK_EVENTS.labels(webhook.event_type, outcome).inc()
        return Output({PAYMENTS_EVENTS: [mapping.PAYMENT_EVENTS.to_proto(event)] if event else []})

    mapper = EnvelopeMapper(WebhookEvent, [WebhookReceived])
    decoder = Decoder(WEBHOOK_EVENTS, mapper, lambda m: m.provider_payment_id)
    return decoded({WEBHOOK_EVENTS: decoder}, handle)


def _deposit_key(translation: Any) -> str:
    """The state key of a USDC deposit's on-chain identity; "" for anything else."""
    if isinstance(translation, DepositToScreen) and translation.tx_hash:
        return f"deposit/{translation.tx_hash}"
    return ""


def _payment_event(
    translation: Any,
    screener: Screener,
    custodian: DepositReturner,
    sleep: Callable[[float], None],
) -> Any:
    if isinstance(translation, DepositToScreen):
        return settle(translation, screener, custodian, sleep)
    return translation


def build(settings: TopologySettings, registry: Any, handler: Callable[..., Output]) -> Application:
    app = application(settings, NAME)
    sdf = app.dataframe(input_topic(app, WEBHOOK_EVENTS))
    sdf = sdf.apply(handler, stateful=True, metadata=True)
    route_outputs(
        sdf,
        app,
        {PAYMENTS_EVENTS: PaymentEvent},
        registry,
        [WEBHOOK_EVENTS],
        key=lambda event: event.meta.escrow_id.encode(),
    )
    return app


def main() -> None:
    settings = WebhooksSettings()
    handler = webhooks_handler(settings.screener(), settings.custodian())
    run(lambda: build(settings, schema_registry(settings.schema_registry_url), handler), settings)


if __name__ == "__main__":
    main()
