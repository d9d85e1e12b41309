"""Process settings, read once from the environment in ``main()`` and passed down (never read at
import time, never by domain code)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Where the cluster is and how to talk to it.

    Environment: ``KAFKA_BOOTSTRAP_SERVERS`` (default ``127.0.0.1:9092``), ``SCHEMA_REGISTRY_URL``
    (unset: the in-process mock registry), ``KAFKA_REPLICATION_FACTOR`` (default 1; 3 in
    production).
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    schema_registry_url: str | None = None
    kafka_replication_factor: int = 1
