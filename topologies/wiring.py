"""Quix Streams wiring every topology shares: the exactly-once ``Application``, topics as raw bytes
in and Confluent-framed protobuf out, one output branch per destination, dead-letter routing, and
running the process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from prometheus_client import start_http_server
from quixstreams import Application
from quixstreams.dataframe import StreamingDataFrame
from quixstreams.kafka.configuration import ConnectionConfig
from quixstreams.models import Topic
from quixstreams.models.serializers import SerializationContext, Serializer
from quixstreams.models.serializers.simple_types import BytesSerializer
from quixstreams.models.topics.exceptions import TopicNotFoundError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from connectors.kafka_serdes import EnvelopeSerializer, schema_registry
from connectors.topics import dlq_topic
from topologies.records import Output
from topologies.settings import TopologySettings

logger = logging.getLogger(__name__)


def application(settings: TopologySettings, name: str) -> Application:
    """An exactly-once application in consumer group ``<prefix>.<name>``, state in
    ``<state_dir>/<name>``."""
    return Application(
        broker_address=ConnectionConfig.from_librdkafka_dict(
            {"bootstrap.servers": settings.kafka_bootstrap_servers, **settings.kafka_security()}
        ),
        consumer_group=settings.consumer_group(name),
        processing_guarantee="exactly-once",
        commit_interval=settings.commit_interval_s,
        # Not "latest": Quix aligns concatenated partitions by timestamp and waits on a partition
        # whose position is unknown, which a "latest" start leaves so until a record arrives.
        auto_offset_reset="earliest",
        state_dir=settings.state_dir / name,
        producer_extra_config={"transaction.timeout.ms": settings.transaction_timeout_ms},
        consumer_extra_config={
            "fetch.wait.max.ms": settings.fetch_wait_max_ms,
            "session.timeout.ms": settings.session_timeout_ms,
        },
        consumer_poll_timeout=settings.poll_timeout_s,
        loglevel=settings.log_level,
    )


def serve(build: Callable[[TopologySettings, Any], Application]) -> None:
    """``main()`` of a topology that needs nothing but settings and the schema registry."""
    settings = TopologySettings()
    run(lambda: build(settings, schema_registry(settings.schema_registry_url)), settings)


def run(build: Callable[[], Application], settings: TopologySettings) -> None:
    """Builds the application, serves ``/metrics`` (if a port is set) and processes until
    SIGTERM/SIGINT.

    Quix creates a state store's changelog topic while the application is built and reads it
    back at once; on a busy fresh broker the new topic is not always visible yet
    (``TopicNotFoundError``), so building is retried (5 tries, 1 s apart).
    """
    building = Retrying(
        retry=retry_if_exception_type(TopicNotFoundError),
        stop=stop_after_attempt(5),
        wait=wait_fixed(1),
        before_sleep=lambda state: logger.warning("building again: %s", state.outcome),
        reraise=True,
    )
    app = building(build)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
        logger.info("metrics on :%d/metrics", settings.metrics_port)
    app.run()


def output_topic(app: Application, name: str, envelope: Any, registry: Any) -> Topic:
    """A destination topic keyed by raw bytes with Confluent-framed protobuf values."""
    return app.topic(
        name, key_serializer="bytes", value_serializer=EnvelopeSerializer(envelope, registry)
    )


def input_topic(app: Application, name: str) -> Topic:
    """A source topic read as raw bytes: decoding happens in the step, so failures are DLQ'd."""
    return app.topic(name, key_deserializer="bytes", value_deserializer="bytes")


def route_outputs(
    sdf: StreamingDataFrame,
    app: Application,
    envelopes: Mapping[str, type[Message]],
    registry: Any,
    sources: Iterable[str],
    key: Callable[[Any], bytes] | None = None,
) -> None:
    """Produces what each ``Output`` holds: its envelopes to their topics (``envelopes``: topic ->
    envelope class), keyed like the input record or by ``key(envelope)``, and its dead letter,
    with its error headers, to ``<source topic>.dlq`` (``sources``: the input topics).

    One path for all of it, not a branch per destination: Quix copies each record into every
    branch of a dataframe, and filters it in each.
    """
    topics = {
        name: app.topic(
            name,
            key_serializer="bytes",
            value_serializer=_Unwrapped(EnvelopeSerializer(envelope, registry)),
        )
        for name, envelope in envelopes.items()
    }
    for source in sources:
        name = dlq_topic(source)
        topics[name] = app.topic(
            name, key_serializer="bytes", value_serializer=_Unwrapped(BytesSerializer())
        )
    items = sdf.apply(
        lambda out, input_key, ts, headers: _outgoing(out, input_key, key),
        expand=True,
        metadata=True,
    )
    items = items.set_headers(
        lambda item, input_key, ts, headers: headers if item.headers is None else item.headers
    )
    items.to_topic(lambda item, input_key, ts, headers: topics[item.topic], key=_key_of)


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One record to produce: its topic, key, value (an envelope, or a dead letter's bytes), and
    headers (None: the input record's)."""

    topic: str
    key: bytes | None
    value: Any
    headers: list[tuple[str, bytes]] | None = None


def _outgoing(
    out: Output, input_key: bytes | None, key: Callable[[Any], bytes] | None
) -> list[_Outgoing]:
    items = [
        _Outgoing(topic, input_key if key is None else key(envelope), envelope)
        for topic, envelopes in out.records.items()
        for envelope in envelopes
    ]
    letter = out.dead_letter
    if letter is not None:
        dlq = dlq_topic(letter.source_topic)
        items.append(_Outgoing(dlq, input_key, letter.value, letter.headers))
    return items


def _key_of(item: _Outgoing) -> bytes | None:
    return item.key


class _Unwrapped(Serializer):
    """A topic's serializer applied to an ``_Outgoing``'s value."""

    def __init__(self, inner: Serializer) -> None:
        self._inner = inner

    def __call__(self, value: _Outgoing, ctx: SerializationContext) -> Any:
        return self._inner(value.value, ctx)
