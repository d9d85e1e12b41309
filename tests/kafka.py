"""Helpers for tests that talk to the real broker: read a topic with a deadline."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, Message, Producer, TopicPartition
from google.protobuf.message import Message as ProtoMessage

from connectors.kafka_config import producer_config
from connectors.kafka_serdes import (
    ENVELOPES,
    EnvelopeDeserializer,
    EnvelopeSerializer,
    schema_registry,
    value_context,
)
from tests.eventually import eventually


def make_consumer(bootstrap: str, *, read_committed: bool = True) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed" if read_committed else "read_uncommitted",
            # Records of a transaction become readable when it commits, which does not wake a
            # waiting fetch: poll often so tests see them promptly.
            "fetch.wait.max.ms": 20,
        }
    )


def read_until(
    consumer: Consumer,
    done: Callable[[list[Message]], bool],
    timeout_s: float = 30.0,
) -> list[Message]:
    """Polls ``consumer`` until ``done(messages)`` holds or ``timeout_s`` passes; returns all."""
    messages: list[Message] = []

    def read_one() -> bool:
        if not done(messages):
            message = consumer.poll(0.2)  # the wait between tries: no interval of its own
            if message is not None:
                if message.error():
                    raise RuntimeError(str(message.error()))
                messages.append(message)
        return done(messages)

    try:
        eventually(read_one, timeout_s, interval_s=0, what="done(messages)")
    except TimeoutError:
        pass  # the messages read by the deadline, as the caller asked for
    return messages


def read_n(bootstrap: str, topic: str, n: int, timeout_s: float = 30.0) -> list[Message]:
    """The first ``n`` committed records of ``topic`` (fewer if the deadline passes first)."""
    consumer = make_consumer(bootstrap)
    consumer.subscribe([topic])
    try:
        return read_until(consumer, lambda got: len(got) >= n, timeout_s)
    finally:
        consumer.close()


class EnvelopeProducer:
    """Produces envelopes in Confluent framing, keyed, and waits for the broker's ack."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = Producer(producer_config(bootstrap))
        self._registry = schema_registry(None)

    def send(self, topic: str, key: str | None, envelope: ProtoMessage) -> None:
        serializer = EnvelopeSerializer(ENVELOPES[topic], self._registry)
        self.send_raw(topic, key, serializer(envelope, value_context(topic)))

    def send_raw(self, topic: str, key: str | None, value: bytes) -> None:
        self._producer.produce(topic, key=key, value=value)
        if self._producer.flush(30) != 0:
            raise RuntimeError(f"produce to {topic} not acknowledged")


class Tail:
    """Reads a topic from its end as it was when the Tail was made, decoding envelopes."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self._consumer = make_consumer(bootstrap)
        partitions = []
        for partition in self._partitions(topic):
            _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
            partitions.append(TopicPartition(topic, partition, high))
        self._consumer.assign(partitions)
        envelope = ENVELOPES.get(topic)  # None for DLQs: raw bytes
        self._decode = EnvelopeDeserializer(envelope) if envelope else None
        self.records: list[Message] = []

    def wait_for(
        self, done: Callable[[list[Message]], bool], timeout_s: float = 60.0
    ) -> list[Message]:
        """Reads until ``done(all records read so far)``; raises AssertionError on timeout."""

        def read_one() -> bool:
            if not done(self.records):
                message = self._consumer.poll(0.2)  # the wait between tries
                if message is not None and not message.error():
                    self.records.append(message)
            return done(self.records)

        try:
            eventually(read_one, timeout_s, interval_s=0, what=f"{self.topic}: condition")
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None
        return self.records

    def _partitions(self, topic: str, timeout_s: float = 30) -> list[int]:
        """The topic's partitions, once the metadata shows them (a new topic takes a moment)."""
        errors: list[object] = []  # the last one explains a timeout

        def partitions() -> list[int]:
            metadata = self._consumer.list_topics(topic, timeout=10).topics[topic]
            errors.append(metadata.error)
            return list(metadata.partitions) if metadata.error is None else []

        try:
            return eventually(partitions, timeout_s, interval_s=0.2, what=f"{topic}: partitions")
        except TimeoutError:
            raise RuntimeError(f"{topic}: no metadata ({errors[-1]})") from None

    def drain(self, seconds: float) -> None:
        """Reads into ``records`` whatever arrives within ``seconds`` (to check nothing more
        came)."""
        self.records.extend(self.poll_batch(seconds))

    def poll_batch(self, timeout_s: float) -> list[Message]:
        """Whatever arrives within ``timeout_s`` (not kept in ``records``)."""
        return [m for m in self._consumer.consume(1000, timeout_s) if not m.error()]

    def decode(self, record: Message) -> Any:
        if self._decode is None:
            raise TypeError(f"{self.topic} holds raw bytes, not envelopes")
        return self._decode(record.value(), value_context(self.topic))

    def envelopes(self, key: str) -> list[Any]:
        """The decoded envelopes read so far whose key is ``key``."""
        return [self.decode(m) for m in self.records if m.key() == key.encode()]

    def close(self) -> None:
        self._consumer.close()
