"""Quix Streams wiring every topology shares: the exactly-once ``Application``, topics as raw bytes
in and Confluent-framed protobuf out, one output branch per destination, dead-letter routing, and
running the process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import start_http_server
from quixstreams import Application
from quixstreams.dataframe import StreamingDataFrame
from quixstreams.models import Topic
from quixstreams.models.topics.exceptions import TopicNotFoundError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from connectors.kafka_serdes import EnvelopeSerializer, schema_registry
from connectors.topics import dlq_topic
from topologies.records import DLQ_TOPIC, Output
from topologies.settings import TopologySettings

logger = logging.getLogger(__name__)


def application(settings: TopologySettings, name: str) -> Application:
    """An exactly-once application in consumer group ``<prefix>.<name>``, state in
    ``<state_dir>/<name>``."""
    return Application(
        broker_address=settings.kafka_bootstrap_servers,
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
