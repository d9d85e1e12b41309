"""Rebuilding one escrow's view from the event topics (``escrow-streams rebuild-view <id>``):
reads ``escrow.events.v1`` and ``payments.events.v1`` up to their current end, keeps the escrow's
records, folds them through ``project`` in timestamp order, prints the view and (``--publish``)
produces it to ``escrow.views.v1``. The full rebuild is in the README."""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from google.protobuf.json_format import MessageToJson

from connectors.kafka_config import KafkaSettings, producer_config
from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from connectors.topics import ESCROW_EVENTS, ESCROW_VIEWS, PAYMENTS_EVENTS
from schemas.escrow.v1.views_pb2 import EscrowView
from topologies.projections.app import DECODERS
from topologies.projections.project import project


def rebuild_view(settings: KafkaSettings, escrow_id: str) -> EscrowView | None:
    records = [
        r
        for topic in (ESCROW_EVENTS, PAYMENTS_EVENTS)
        for r in _read(settings, topic)
        if r.key() == escrow_id.encode()
    ]
    view: EscrowView | None = None
    for record in sorted(records, key=lambda r: (r.timestamp()[1], r.topic() != ESCROW_EVENTS)):
        view = project(view, DECODERS[record.topic()].decode(record.key(), record.value()))
    return view


def publish_view(settings: KafkaSettings, view: EscrowView) -> None:
    """Produces ``view`` to ``escrow.views.v1``, registering its schema with the Schema Registry
    (``SCHEMA_REGISTRY_URL``; unset: the in-process mock registry), like the projections
    topology."""
    producer = Producer(
        producer_config(settings.kafka_bootstrap_servers, settings.kafka_security())
    )
    serialize = EnvelopeSerializer(EscrowView, schema_registry(settings.schema_registry_url))
    value = serialize(view, value_context(ESCROW_VIEWS))
    producer.produce(ESCROW_VIEWS, key=view.escrow_id, value=value)
    producer.flush(30)


def print_view(view: EscrowView | None) -> None:
    print(MessageToJson(view, preserving_proto_field_name=True) if view else "no such escrow")


def _read(settings: KafkaSettings, topic: str) -> list[Any]:
    """Every committed record of ``topic`` up to its end as of now."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            **settings.kafka_security(),
            "group.id": f"rebuild-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), 10)[1] for p in partitions}
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    records, done = [], {p for p, end in ends.items() if end == 0}
    while len(done) < len(ends):
        for record in consumer.consume(1000, 1.0):
            if record.error():
                continue
            records.append(record)
            if record.offset() + 1 >= ends[record.partition()]:
                done.add(record.partition())
        done |= {
            tp.partition
            for tp in consumer.position([TopicPartition(topic, p) for p in ends])
            if tp.offset >= ends[tp.partition]
        }
    consumer.close()
    return records
