"""One sample of every variant of every topic envelope, for round-trip tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from google.protobuf.message import Message

from connectors.kafka_serdes import ENVELOPES


def every_variant() -> Iterator[tuple[str, Message]]:
    """(topic, envelope) for each topic and each oneof variant; one plain envelope for tables."""
    for topic, envelope_type in ENVELOPES.items():
        oneofs = envelope_type.DESCRIPTOR.oneofs
        if not oneofs:
            yield topic, _sample(envelope_type)
            continue
        for field in oneofs[0].fields:
            envelope = _sample(envelope_type)
            getattr(envelope, field.name).SetInParent()
            yield topic, envelope


def _sample(envelope_type: type[Message]) -> Message:
    envelope: Any = envelope_type()  # generated classes: attributes vary by type
    if "meta" in envelope.DESCRIPTOR.fields_by_name:
        envelope.meta.correlation_id = "corr-1"
    else:
        envelope.escrow_id = "esc-1"
    return cast(Message, envelope)
