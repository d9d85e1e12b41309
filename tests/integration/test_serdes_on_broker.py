from __future__ import annotations

import pytest
from confluent_kafka import Producer

from connectors.kafka_serdes import (
    EnvelopeDeserializer,
    EnvelopeSerializer,
    schema_registry,
    value_context,
)
from tests.envelopes import every_variant
from tests.fixtures import TopicFactory
from tests.kafka import read_n

pytestmark = pytest.mark.integration


def test_every_variant_round_trips_through_the_broker(
    bootstrap_servers: str, new_topic: TopicFactory
) -> None:
    topic = new_topic("serdes")
    samples = [message for _, message in every_variant()]
    registry = schema_registry(None)
    producer = Producer({"bootstrap.servers": bootstrap_servers, "acks": "all"})
    for message in samples:
        # One topic for all envelope types: the deserializer is chosen by type, not by topic.
        data = EnvelopeSerializer(type(message), registry)(message, value_context(topic))
        producer.produce(topic, value=data, headers={"type": type(message).__name__})
    assert producer.flush(30) == 0

    records = read_n(bootstrap_servers, topic, len(samples))

    decoded = [
        EnvelopeDeserializer(type(sent))(record.value(), value_context(topic))
        for sent, record in zip(samples, records, strict=True)
    ]
    assert decoded == samples
