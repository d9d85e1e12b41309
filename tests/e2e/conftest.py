from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.settings import GatewaySettings
from tests.demo import POLICY_ENV
from tests.http_fakes import free_port
from tests.platform import Platform, running_platform

E2E_GROUP_PREFIX = "escrow-streams-e2e"


@pytest.fixture(scope="module")
def platform_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where every process of the platform writes its log lines."""
    return tmp_path_factory.mktemp("platform") / "platform.log"


@pytest.fixture(scope="module")
def platform(bootstrap_servers: str, platform_log: Path) -> Iterator[Platform]:
    """``escrow-streams run all --fakes``: every topology, the gateway and the provider fakes, as
    separate processes on the real broker (and stripe-mock), on free ports. Module-scoped and in
    consumer groups of its own: it must not run beside the integration tests' processes, which
    would then share its inputs (and see its duplicate outputs)."""
    workdir = platform_log.parent
    gateway_port, custodian_port, screening_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "CONSUMER_GROUP_PREFIX": E2E_GROUP_PREFIX,
        "STATE_DIR": str(workdir / "state"),
        "VIEW_TABLE_DIR": str(workdir / "views"),
        "LEDGER_TABLE_DIR": str(workdir / "ledger"),
        "GATEWAY_PORT": str(gateway_port),
        "CUSTODIAN_URL": f"http://127.0.0.1:{custodian_port}",
        "TRM_URL": f"http://127.0.0.1:{screening_port}",
        "STRIPE_RECORDER_URL": f"http://127.0.0.1:{free_port()}",
        "CHAINALYSIS_URL": f"http://127.0.0.1:{screening_port}",
        "METRICS_BASE_PORT": "0",  # eight adjacent free ports cannot be promised
        # The demo's release window; a failed payout retried after 2 s, once, then an admin's.
        **POLICY_ENV,
        "PAYOUT_RETRY_INITIAL_S": "2",
        "MAX_PAYOUT_FAILURES": "2",
    }
    settings = GatewaySettings(kafka_bootstrap_servers=bootstrap_servers, gateway_port=gateway_port)
    with (
        platform_log.open("wb") as log,
        running_platform(log, settings, env, ready_timeout_s=180) as running,
    ):
        yield running
