"""Where the cluster is (``KafkaSettings``) and the librdkafka settings every producer shares."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from connectors.deployment import DeploymentSettings

# Keys must land on the same partition whoever produces them: the escrow topology joins
# escrow.commands.v1 and payments.events.v1 by partition (co-partitioning), and its output is
# produced by Quix Streams, which partitions with murmur2 (the Java client's algorithm).
# librdkafka's own default (consistent_random, CRC32) would send the same escrow_id elsewhere.
PARTITIONER = "murmur2"


def producer_config(bootstrap_servers: str) -> dict[str, str | int | bool]:
    """Durable, idempotent, Java-compatible partitioning (the same partition for the same key)."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "partitioner": PARTITIONER,
        "acks": "all",
        "enable.idempotence": True,
    }


class KafkaSettings(DeploymentSettings):
    """Where the cluster is and how to talk to it.

    Environment: ``KAFKA_BOOTSTRAP_SERVERS`` (default ``127.0.0.1:9092``), ``SCHEMA_REGISTRY_URL``
    (unset: the in-process mock registry), ``KAFKA_REPLICATION_FACTOR`` (default 1; 3 in
    production).
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    schema_registry_url: str | None = None
    kafka_replication_factor: int = 1
