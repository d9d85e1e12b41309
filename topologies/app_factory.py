"""Creating and running a topology's Quix Streams ``Application`` the same way for all of them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import start_http_server
from quixstreams import Application

from connectors.kafka_serdes import schema_registry
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
    run(build(settings, schema_registry(settings.schema_registry_url)), settings)


def run(app: Application, settings: TopologySettings) -> None:
    """Serves ``/metrics`` (if a port is set) and processes until SIGTERM/SIGINT."""
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
        logger.info("metrics on :%d/metrics", settings.metrics_port)
    app.run()
