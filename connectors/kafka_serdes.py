"""Protobuf serdes in Confluent framing (magic byte, schema id, message indexes), DESIGN.md §3.

Each topic carries one envelope message type with one ``oneof`` (``ENVELOPES``). Serializers
register the envelope's schema under the subject ``<topic>-value`` (TopicNameStrategy) with
BACKWARD compatibility, in a real Schema Registry when ``SCHEMA_REGISTRY_URL`` is set and in
confluent-kafka's in-process ``mock://`` registry otherwise. Deserializers decode by message type,
without asking a registry, and refuse what they cannot decode with a ``DeserializationError``.
"""

from __future__ import annotations

from typing import Any, cast

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.schema_registry.schema_registry_client import ServerConfig
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf.message import Message
from quixstreams.models.serializers import Deserializer, Serializer

from connectors import topics
from connectors.exceptions import DeserializationError, UnknownVariantError
from schemas.contracts.v1.events_pb2 import ContractEvent
from schemas.escrow.v1.commands_pb2 import EscrowCommand
from schemas.escrow.v1.events_pb2 import EscrowEvent
from schemas.escrow.v1.views_pb2 import EscrowView
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.violations_pb2 import LedgerViolation
from schemas.payments.v1.commands_pb2 import PaymentCommand
from schemas.payments.v1.events_pb2 import PaymentEvent
from schemas.reconciliation.v1.discrepancies_pb2 import ReconciliationDiscrepancy
from schemas.scheduler.v1.reminders_pb2 import DeadlineReminder
from schemas.webhooks.v1.events_pb2 import WebhookEvent

ENVELOPES: dict[str, type[Message]] = {
    topics.ESCROW_COMMANDS: EscrowCommand,
    topics.ESCROW_EVENTS: EscrowEvent,
    topics.ESCROW_REMINDERS: DeadlineReminder,
    topics.PAYMENTS_COMMANDS: PaymentCommand,
    topics.PAYMENTS_EVENTS: PaymentEvent,
    topics.WEBHOOK_EVENTS: WebhookEvent,
    topics.CONTRACTS_EVENTS: ContractEvent,
    topics.ESCROW_VIEWS: EscrowView,
    topics.LEDGER_POSTINGS: LedgerPosting,
    topics.LEDGER_VIOLATIONS: LedgerViolation,
    topics.RECONCILIATION_DISCREPANCIES: ReconciliationDiscrepancy,
}

MOCK_REGISTRY_URL = "mock://escrow-streams"


def schema_registry(url: str | None) -> SchemaRegistryClient:
    """A Schema Registry client for ``url``; the in-process mock registry when ``url`` is None."""
    return SchemaRegistryClient.new_client({"url": url or MOCK_REGISTRY_URL})


def variant_of(message: Message) -> str | None:
    """The name of the set oneof field of an envelope (e.g. ``"mark_delivered"``), or None.

    Envelopes without a oneof (table values such as ``EscrowView``) have no variant: None.
    """
    oneofs = message.DESCRIPTOR.oneofs
    return message.WhichOneof(oneofs[0].name) if oneofs else None


class EnvelopeSerializer(Serializer):
    """Serializes an envelope to Confluent-framed protobuf bytes, registering its schema once.

    :param msg_type: the topic's envelope class, e.g. ``EscrowCommand``.
    :param registry: from ``schema_registry(url)``.
    """

    def __init__(self, msg_type: type[Message], registry: SchemaRegistryClient) -> None:
        self._msg_type = msg_type
        self._registry = registry
        self._inner = ProtobufSerializer(
            msg_type, registry, {"auto.register.schemas": True, "use.deprecated.format": False}
        )
        self._configured_subjects: set[str] = set()

    def __call__(self, value: Message, ctx: SerializationContext) -> bytes:
        subject = f"{ctx.topic}-value"
        if subject not in self._configured_subjects:
            self._registry.set_config(subject, ServerConfig(compatibility="BACKWARD"))
            self._configured_subjects.add(subject)
        return cast(bytes, self._inner(value, ctx))  # None only for a None value


class EnvelopeDeserializer(Deserializer):
    """Decodes Confluent-framed protobuf bytes into an envelope, without a registry round trip.

    :param msg_type: the topic's envelope class.
    :raises DeserializationError: bytes that are not a framed message of ``msg_type``.
    :raises UnknownVariantError: a message whose oneof holds a variant this code does not know.
    """

    def __init__(self, msg_type: type[Message]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._msg_type = msg_type
        self._inner = ProtobufDeserializer(msg_type, {"use.deprecated.format": False})

    def __call__(self, value: bytes, ctx: SerializationContext) -> Any:
        if not value or value[0] != 0:
            raise DeserializationError(ctx.topic, "missing the Confluent magic byte 0")
        try:
            message: Message = self._inner(value, ctx)
        except Exception as exc:  # confluent raises several types for truncated/garbled bytes
            raise DeserializationError(ctx.topic, f"{type(exc).__name__}: {exc}") from exc
        oneofs = message.DESCRIPTOR.oneofs
        if oneofs and variant_of(message) is None:
            raise UnknownVariantError(
                ctx.topic,
                f"{self._msg_type.DESCRIPTOR.full_name} holds no variant this version knows",
            )
        return message


def value_context(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)
