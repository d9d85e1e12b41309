"""Process settings, read once from the environment in ``main()`` and passed down (never read at
import time, never by domain code)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from connectors.custodian import CustodianRail
from connectors.kafka_config import KafkaSettings
from connectors.payment_rail import PaymentRail
from connectors.stripe_rail import StripeRail
from kernel.model import Rail


class TopologySettings(KafkaSettings):
    """Tuning of a topology process (DESIGN.md §1).

    Environment: ``COMMIT_INTERVAL_S`` (0.05: output becomes visible when a checkpoint commits, so
    this bounds command->event latency; Kafka Streams uses 100 ms under exactly-once),
    ``FETCH_WAIT_MAX_MS`` (100), ``POLL_TIMEOUT_S`` (0.02), ``SESSION_TIMEOUT_MS`` (10000),
    ``TRANSACTION_TIMEOUT_MS`` (10000: how long a crashed instance's open transaction blocks
    read_committed readers), ``STATE_DIR`` (RocksDB stores; restored from changelogs when empty),
    ``METRICS_PORT`` (Prometheus ``/metrics``; 0 = off), ``CONSUMER_GROUP_PREFIX``, ``LOG_LEVEL``.
    A new consumer group starts from the earliest offsets.
    """

    # Measured (task bench, 200 commands/s): p95 command->event 96 ms at 0.05 s, 151-169 at 0.1 s.
    commit_interval_s: float = 0.05
    transaction_timeout_ms: int = 10_000
    # A broker answers one connection's requests in order, so an idle long-poll Fetch delays the
    # offset look-ups of a rebalance by up to this much each (librdkafka's default is 500 ms;
    # 24 partitions made a rebalance take 12 s).
    fetch_wait_max_ms: int = 100
    # Quix fetches in batches of up to 10,000 records and librdkafka waits out the whole timeout
    # when fewer arrive: at low rates every record waited this long (1 s by default).
    poll_timeout_s: float = 0.02
    # How long a crashed instance keeps its partitions before the group reassigns them.
    session_timeout_ms: int = 10_000
    state_dir: Path = Path(".run/state")
    metrics_port: int = 0
    consumer_group_prefix: str = "escrow-streams"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def consumer_group(self, topology: str) -> str:
        return f"{self.consumer_group_prefix}.{topology}"


class RailSettings(TopologySettings):
    """The payment rails' providers (DESIGN.md §5). Environment: ``STRIPE_API_KEY``,
    ``STRIPE_API_BASE`` (default stripe-mock), ``CUSTODIAN_URL``, ``CUSTODIAN_API_KEY``,
    ``PROVIDER_TIMEOUT_S`` (2 per request)."""

    stripe_api_key: SecretStr = SecretStr("sk_test_escrowstreams")
    stripe_api_base: str | None = "http://127.0.0.1:12111"
    custodian_url: str = "http://127.0.0.1:12301"
    custodian_api_key: SecretStr = SecretStr("custodian-dev-key")
    provider_timeout_s: float = 2.0

    def rails(self) -> dict[Rail, PaymentRail]:
        return {
            Rail.STRIPE: StripeRail(
                self.stripe_api_key.get_secret_value(),
                self.stripe_api_base,
                self.provider_timeout_s,
            ),
            Rail.USDC_BASE: CustodianRail(
                self.custodian_url,
                self.custodian_api_key.get_secret_value(),
                self.provider_timeout_s,
            ),
        }
