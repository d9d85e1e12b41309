"""The record a provider webhook becomes on ``webhook.events.v1`` (DESIGN.md §5), built in one
place for the gateway (webhooks it verified) and the reconciler (webhooks it recovered)."""

from __future__ import annotations

from datetime import datetime

from schemas.webhooks.v1.events_pb2 import Provider, WebhookEvent


def provider_name(provider: Provider.ValueType) -> str:
    """``PROVIDER_STRIPE`` -> ``stripe``: the prefix of the record's event id, a metric label."""
    return Provider.Name(provider).removeprefix("PROVIDER_").lower()


def webhook_record(
    provider: Provider.ValueType,
    provider_event_id: str,
    event_type: str,
    provider_payment_id: str,
    payload: bytes,
    received_at: datetime,
    recovered_by_reconciliation: bool = False,
) -> WebhookEvent:
    """The record, keyed (by the caller) by ``provider_payment_id``; its event id
    ``<provider>:<provider event id>`` is what the webhooks topology deduplicates by.

    :param payload: the webhook's body, byte for byte (JSON).
    :param received_at: UTC.
    """
    record = WebhookEvent()
    record.meta.event_id = f"{provider_name(provider)}:{provider_event_id}"
    record.meta.occurred_at.FromDatetime(received_at)
    received = record.webhook_received
    received.provider = provider
    received.provider_event_id = provider_event_id
    received.event_type = event_type
    received.provider_payment_id = provider_payment_id
    received.payload = payload
    received.received_at.FromDatetime(received_at)
    received.recovered_by_reconciliation = recovered_by_reconciliation
    return record
