"""The boundary between Kafka records and domain messages, shared by every topology.

Topologies consume raw bytes and decode them here, inside the processing step, so that a record
that cannot be decoded becomes a dead letter produced in the same exactly-once transaction as
everything else (DESIGN.md §6), and the stream goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from quixstreams import message_context

from connectors.exceptions import DeserializationError
from connectors.kafka_serdes import EnvelopeDeserializer, value_context
from kernel.mapping import EnvelopeMapper
from topologies import metrics

logger = logging.getLogger(__name__)

# Headers of a dead letter (DESIGN.md §6).
DLQ_ERROR = "dlq.error"
DLQ_TOPIC = "dlq.source.topic"
DLQ_PARTITION = "dlq.source.partition"
DLQ_OFFSET = "dlq.source.offset"


@dataclass(frozen=True)
class DeadLetter:
    """The original record and why it could not be processed."""

    value: bytes | None
    headers: list[tuple[str, bytes]]
    source_topic: str


@dataclass(frozen=True)
class Output:
    """What one input record produces: envelopes per destination topic, and/or a dead letter."""

    records: dict[str, list[Message]] = field(default_factory=dict)
    dead_letter: DeadLetter | None = None


class Decoder:
    """Decodes one topic's records into domain messages.

    :param topic: the source topic.
    :param mapper: its envelope mapper.
    :param key_of: the key a message must have been produced with (e.g. its escrow_id), or None
        when the key is not checked.
    """

    def __init__(self, topic: str, mapper: EnvelopeMapper, key_of: Any = None) -> None:
        self._topic = topic
        self._deserializer = EnvelopeDeserializer(mapper.envelope)
        self._mapper = mapper
        self._key_of = key_of

    def decode(self, key: bytes | None, value: bytes | None) -> Any:
        """:raises DeserializationError: bad bytes, unknown variant, a field the domain cannot
        hold (an enum value this version does not know, a malformed timestamp), an empty id, or
        a key not matching."""
        envelope = self._deserializer(value or b"", value_context(self._topic))
        try:
            message = self._mapper.to_domain(envelope)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            raise DeserializationError(self._topic, f"{type(exc).__name__}: {exc}") from exc
        if self._key_of is not None:
            expected = self._key_of(message)
            if not expected:
                raise DeserializationError(self._topic, "the message names no key (empty id)")
            if key is None or key.decode("utf-8", "replace") != expected:
                raise DeserializationError(
                    self._topic, f"key {key!r} is not the message's {expected!r}"
                )
        return message


@dataclass(frozen=True)
class Record:
    """The input record being handled."""

    value: bytes | None
    topic: str
    partition: int
    offset: int
    # The record's timestamp: the handler's "now", so reprocessing decides identically.
    time: datetime

    def dead_letter(self, error: Exception) -> DeadLetter:
        """This record for ``<topic>.dlq``, with headers naming ``error``; counted."""
        logger.warning(
            "dead letter from %s[%d]@%d: %s", self.topic, self.partition, self.offset, error
        )
        metrics.DEAD_LETTERS.labels(self.topic).inc()
        headers = [
            (DLQ_ERROR, f"{type(error).__name__}: {error}".encode()),
            (DLQ_TOPIC, self.topic.encode()),
            (DLQ_PARTITION, str(self.partition).encode()),
            (DLQ_OFFSET, str(self.offset).encode()),
        ]
        return DeadLetter(self.value, headers, self.topic)


def decoded(
    decoders: Mapping[str, Decoder], handle: Callable[..., Output]
) -> Callable[..., Output]:
    """A Quix ``apply(..., metadata=True)`` function: decodes the record with its topic's decoder
    and calls ``handle(message, record, *state)``; a record that does not decode becomes a dead
    letter and ``handle`` never sees it."""

    def apply(
        value: bytes | None, key: bytes | None, timestamp_ms: int, headers: Any, *state: Any
    ) -> Output:
        ctx = message_context()
        time = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
        record = Record(value, ctx.topic, ctx.partition, ctx.offset, time)
        try:
            message = decoders[ctx.topic].decode(key, value)
        except DeserializationError as exc:
            return Output(dead_letter=record.dead_letter(exc))
        return handle(message, record, *state)

    return apply
