"""What the reconciler produces: recovered provider webhooks on ``webhook.events.v1`` (keyed by the
provider payment, like the gateway's) and discrepancies on ``reconciliation.discrepancies.v1``
(keyed by the provider object), each counted once acknowledged; and which discrepancies are new."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from confluent_kafka import Producer

from connectors.kafka_config import producer_config
from connectors.kafka_serdes import EnvelopeSerializer, value_context
from connectors.topics import RECONCILIATION_DISCREPANCIES, WEBHOOK_EVENTS
from connectors.webhook_records import provider_name, webhook_record
from kernel.model import Money, Rail
from schemas.reconciliation.v1.discrepancies_pb2 import ReconciliationDiscrepancy
from schemas.webhooks.v1.events_pb2 import Provider, WebhookEvent
from topologies import metrics
from topologies.reconciliation.compare import Discrepancy, Kind
from topologies.reconciliation.recovery import RecoveredWebhook

PROVIDERS = {Rail.STRIPE: Provider.PROVIDER_STRIPE, Rail.USDC_BASE: Provider.PROVIDER_CUSTODIAN}
MOVEMENT_NUMBERS = {"payment": 1, "transfer": 2, "refund": 3, "return": 4}


def provider_of(rail: Rail) -> str:
    """``stripe`` | ``custodian``: the metrics' provider label."""
    return provider_name(PROVIDERS[rail])


def count_from_zero() -> None:
    """Exports every provider and kind at 0 from the start, so that the first discrepancy is an
    increase Prometheus sees (a series born at 1 has no increase)."""
    for rail in PROVIDERS:
        for kind in Kind:
            metrics.RECONCILIATION_DISCREPANCIES.labels(provider_of(rail), kind.name.lower())
        for movement in MOVEMENT_NUMBERS:
            metrics.RECONCILIATION_RECOVERED.labels(provider_of(rail), movement)


class Reported(Protocol):
    def reported(self, discrepancy_id: str) -> bool: ...

    def mark_reported(self, discrepancy_id: str) -> None: ...


class KafkaOutput:
    """:param bootstrap_servers: the cluster.
    :param registry: from ``connectors.kafka_serdes.schema_registry``.
    :param security: how to authenticate (``KafkaSettings.kafka_security()``).
    """

    def __init__(
        self, bootstrap_servers: str, registry: Any, security: Mapping[str, str] | None = None
    ) -> None:
        self._producer = Producer(producer_config(bootstrap_servers, security))
        self._webhooks = EnvelopeSerializer(WebhookEvent, registry)
        self._discrepancies = EnvelopeSerializer(ReconciliationDiscrepancy, registry)

    def recovered(self, webhooks: Iterable[RecoveredWebhook], received_at: datetime) -> None:
        """Produces the webhooks and waits for the acks; counts them.

        :raises RuntimeError: not acknowledged in 30 s (the next pass recovers them again).
        """
        produced = list(webhooks)
        for webhook in produced:
            record = webhook_record(
                PROVIDERS[webhook.rail],
                webhook.provider_event_id,
                webhook.event_type,
                webhook.provider_payment_id,
                webhook.payload,
                received_at,
                recovered_by_reconciliation=True,
            )
            value = self._webhooks(record, value_context(WEBHOOK_EVENTS))
            self._producer.produce(WEBHOOK_EVENTS, key=webhook.provider_payment_id, value=value)
        self._flush()
        for webhook in produced:
            labels = provider_of(webhook.rail), str(webhook.movement)
            metrics.RECONCILIATION_RECOVERED.labels(*labels).inc()

    def report(
        self, found: Iterable[Discrepancy], reported: Reported, found_at: datetime
    ) -> list[Discrepancy]:
        """Produces the discrepancies no pass reported before, waits for the acks, counts them,
        and returns them.

        :raises RuntimeError: not acknowledged in 30 s (the next pass reports them again).
        """
        new = [d for d in found if not reported.reported(d.discrepancy_id)]
        for discrepancy in new:
            value = self._discrepancies(
                record(discrepancy, found_at), value_context(RECONCILIATION_DISCREPANCIES)
            )
            key = discrepancy.provider_object_id or discrepancy.ledger_transaction_ids[0]
            self._producer.produce(RECONCILIATION_DISCREPANCIES, key=key, value=value)
        self._flush()
        for discrepancy in new:
            reported.mark_reported(discrepancy.discrepancy_id)
            labels = provider_of(discrepancy.rail), discrepancy.kind.name.lower()
            metrics.RECONCILIATION_DISCREPANCIES.labels(*labels).inc()
        return new

    def _flush(self) -> None:
        if self._producer.flush(30) != 0:
            raise RuntimeError("reconciliation: records not acknowledged in 30 s")


def record(found: Discrepancy, found_at: datetime) -> ReconciliationDiscrepancy:
    """``found`` as ``reconciliation.v1.ReconciliationDiscrepancy``."""
    message = ReconciliationDiscrepancy(
        discrepancy_id=found.discrepancy_id,
        rail=int(found.rail),  # type: ignore[arg-type]
        kind=int(found.kind),  # type: ignore[arg-type]
        movement=MOVEMENT_NUMBERS[found.movement],  # type: ignore[arg-type]
        provider_object_id=found.provider_object_id,
        escrow_id=found.escrow_id,
        ledger_transaction_ids=found.ledger_transaction_ids,
        provider_object_ids=found.provider_object_ids,
        detail=found.detail,
    )
    _money(message.provider_amount, found.provider_amount)
    _money(message.ledger_amount, found.ledger_amount)
    message.found_at.FromDatetime(found_at)
    return message


def _money(target: Any, money: Money | None) -> None:
    if money is not None:
        target.amount_cents, target.currency = money.amount_cents, money.currency
