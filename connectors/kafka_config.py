"""Where the cluster is (``KafkaSettings``) and the librdkafka settings every producer shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from connectors.deployment import DeploymentSettings

# Keys must land on the same partition whoever produces them: the escrow topology joins
# escrow.commands.v1 and payments.events.v1 by partition (co-partitioning), and its output is
# produced by Quix Streams, which partitions with murmur2 (the Java client's algorithm).
# librdkafka's own default (consistent_random, CRC32) would send the same escrow_id elsewhere.
PARTITIONER = "murmur2"


def producer_config(
    bootstrap_servers: str, security: Mapping[str, str] | None = None
) -> dict[str, str | int | bool]:
    """Durable, idempotent, Java-compatible partitioning (the same partition for the same key);
    ``security``: ``KafkaSettings.kafka_security()``."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "partitioner": PARTITIONER,
        "acks": "all",
        "enable.idempotence": True,
        **(security or {}),
    }


class KafkaSettings(DeploymentSettings):
    """Where the cluster is and how to talk to it.

    Environment: ``KAFKA_BOOTSTRAP_SERVERS`` (default ``127.0.0.1:9092``), ``SCHEMA_REGISTRY_URL``
    (unset: the in-process mock registry), ``KAFKA_REPLICATION_FACTOR`` (default 1; 3 in
    production); how to authenticate, for every client a process makes (Quix Streams' too):
    ``KAFKA_SECURITY_PROTOCOL`` (``plaintext``, ``ssl``, ``sasl_plaintext``, ``sasl_ssl``),
    ``KAFKA_SASL_MECHANISM`` (e.g. ``SCRAM-SHA-512``, ``PLAIN``), ``KAFKA_SASL_USERNAME``,
    ``KAFKA_SASL_PASSWORD``, ``KAFKA_SSL_CA_LOCATION`` (a PEM file).
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    schema_registry_url: str | None = None
    kafka_replication_factor: int = 1
    kafka_security_protocol: Literal["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"] = "plaintext"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_location: str | None = None

    def kafka_security(self) -> dict[str, str]:
        """The librdkafka settings that authenticate a client; {} for a plaintext cluster."""
        password = self.kafka_sasl_password
        settings = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanism": self.kafka_sasl_mechanism,
            "sasl.username": self.kafka_sasl_username,
            "sasl.password": password.get_secret_value() if password is not None else None,
            "ssl.ca.location": self.kafka_ssl_ca_location,
        }
        if self.kafka_security_protocol == "plaintext":
            settings.pop("security.protocol")
        return {key: value for key, value in settings.items() if value is not None}
