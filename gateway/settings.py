"""The gateway's settings, read once in ``main()``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from connectors.kafka_config import KafkaSettings


class GatewaySettings(KafkaSettings):
    """Environment: ``GATEWAY_HOST`` (127.0.0.1), ``GATEWAY_PORT`` (8080),
    ``STRIPE_WEBHOOK_SECRET``, ``CUSTODIAN_WEBHOOK_SECRET``, ``PUBLISH_TIMEOUT_S`` (10: how long
    a webhook waits for Kafka's acknowledgement before answering 503, so the provider retries),
    ``VIEW_TABLE_DIR``, ``LEDGER_TABLE_DIR``, ``JWT_HS256_KEY``, ``JWT_JWKS_URL``,
    ``JWT_AUDIENCE``, ``LOG_LEVEL`` (INFO; WARNING drops uvicorn's access line per request),
    ``GATEWAY_WORKERS`` (1: worker processes on the one port, each with its own copy of the
    tables; ``gateway.app`` says how), ``JWT_ISSUER`` (required ``iss``, if set),
    ``MAX_BODY_BYTES`` (65536: larger request bodies get 413), ``MUTATIONS_PER_USER`` (60/minute)
    and ``MUTATIONS_PER_IP`` (600/minute): more commands get 429 (``gateway.rate_limit``). With
    ``ESCROW_ENV=production`` the webhook secrets and the JWT key (unless ``JWT_JWKS_URL`` is set)
    must be set."""

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    stripe_webhook_secret: SecretStr = SecretStr("whsec_escrow_streams_dev")
    custodian_webhook_secret: SecretStr = SecretStr("custodian_webhook_dev")
    publish_timeout_s: float = 10.0
    # The materialized view table (RocksDB), one directory per gateway instance.
    view_table_dir: str = ".run/state/gateway-views"
    # The ledger's postings and balances (RocksDB), one directory per gateway instance.
    ledger_table_dir: str = ".run/state/gateway-ledger"
    # Development tokens are HS256 with this key; set JWT_JWKS_URL for RS256 in production.
    jwt_hs256_key: SecretStr = SecretStr("escrow-streams-dev-jwt-key-change-me-0123456789")
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    max_body_bytes: int = Field(default=65_536, ge=1)
    mutations_per_user: str = "60/minute"
    mutations_per_ip: str = "600/minute"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    gateway_workers: int = Field(default=1, ge=1)

    def secrets_unused(self) -> set[str]:
        return {"jwt_hs256_key"} if self.jwt_jwks_url else set()
