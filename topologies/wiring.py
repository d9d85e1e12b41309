"""Quix Streams wiring shared by the topologies: output branches and dead-letter routing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from quixstreams import Application
from quixstreams.dataframe import StreamingDataFrame
from quixstreams.models import Topic

from connectors.kafka_serdes import EnvelopeSerializer
from connectors.topics import dlq_topic
from topologies.records import DLQ_TOPIC, Output


def output_topic(app: Application, name: str, envelope: Any, registry: Any) -> Topic:
    """A destination topic keyed by raw bytes with Confluent-framed protobuf values."""
    return app.topic(
        name, key_serializer="bytes", value_serializer=EnvelopeSerializer(envelope, registry)
    )


def input_topic(app: Application, name: str) -> Topic:
    """A source topic read as raw bytes: decoding happens in the step, so failures are DLQ'd."""
    return app.topic(name, key_deserializer="bytes", value_deserializer="bytes")


def emit(
    sdf: StreamingDataFrame,
    destinations: dict[str, Topic],
    key: Callable[[Any], bytes] | None = None,
) -> None:
    """One branch per destination: each ``Output``'s records for it, keyed like the input
    record, or by ``key(envelope)`` when given."""
    for name, topic in destinations.items():
        records = sdf.apply(lambda out, name=name: out.records.get(name, []), expand=True)
        records.to_topic(topic, key=key)


def route_dead_letters(sdf: StreamingDataFrame, app: Application, sources: Iterable[str]) -> None:
    """Sends each ``Output``'s dead letter, with its error headers, to ``<source topic>.dlq``."""
    dlqs = {
        s: app.topic(dlq_topic(s), key_serializer="bytes", value_serializer="bytes")
        for s in sources
    }
    letters = sdf.filter(lambda out: out.dead_letter is not None)
    letters = letters.set_headers(lambda out, key, ts, headers: _dead_letter(out).headers)
    letters = letters.apply(lambda out: _dead_letter(out).value)
    letters.to_topic(lambda value, key, ts, headers: dlqs[_header(headers, DLQ_TOPIC)])


def _dead_letter(out: Output) -> Any:
    return out.dead_letter


def _header(headers: Any, name: str) -> str:
    return str(next(value.decode() for key, value in headers if key == name))
