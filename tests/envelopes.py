"""One sample of every variant of every topic envelope, for round-trip tests; envelopes framed as
producers frame them, and poison that frames well."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from google.protobuf.message import Message

from connectors.kafka_serdes import ENVELOPES, EnvelopeSerializer, schema_registry, value_context
from kernel import mapping
from kernel.messages import ResolveDispute
from kernel.model import DisputeResolution
from tests.builders import command_meta


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


def framed(message: Message, topic: str) -> bytes:
    """``message`` in Confluent framing, as a producer of ``topic`` writes it."""
    return EnvelopeSerializer(type(message), schema_registry(None))(message, value_context(topic))


def resolve_dispute(escrow_id: str, resolution: int) -> Message:
    """A ResolveDispute command envelope whose resolution is ``resolution`` (a number, known to
    this version or not)."""
    command = ResolveDispute(command_meta(escrow_id), DisputeResolution.FAVOR_SELLER, "n")
    envelope: Any = mapping.COMMANDS.to_proto(command)
    envelope.resolve_dispute.resolution = resolution
    return cast(Message, envelope)
