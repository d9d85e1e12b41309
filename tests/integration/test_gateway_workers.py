"""Several gateway workers on one port (``GATEWAY_WORKERS``), on the real broker: each serves the
views from its own copy of the table, and ``/metrics`` sums what all of them counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.topics import ESCROW_VIEWS
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from tests.builders import random_id
from tests.eventually import eventually
from tests.kafka import EnvelopeProducer
from tests.metrics import scrape
from tests.processes import TopologyProcess
from tests.provider_fakes.provider_webhooks import JSON
from tests.unit.gateway.support import escrow_view

pytestmark = pytest.mark.integration

PORT = 18181
URL = f"http://127.0.0.1:{PORT}"
WORKERS = 2


@pytest.fixture
def gateway(tmp_path: Path, bootstrap_servers: str, admin: object) -> Iterator[str]:
    process = TopologyProcess(
        "gateway",
        tmp_path / "state",
        tmp_path / "gateway.log",
        KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
        GATEWAY_PORT=str(PORT),
        GATEWAY_WORKERS=str(WORKERS),
        VIEW_TABLE_DIR=str(tmp_path / "views"),
        LEDGER_TABLE_DIR=str(tmp_path / "ledger"),
    ).start()
    try:
        eventually(
            lambda: httpx.get(f"{URL}/readyz", timeout=2).status_code == 200,
            90,
            interval_s=0.2,
            ignoring=(httpx.HTTPError,),
            what="the gateway's workers",
        )
        yield URL
    finally:
        process.stop()


def test_every_worker_holds_its_own_copy_of_the_views(
    gateway: str, tmp_path: Path, bootstrap_servers: str
) -> None:
    view = escrow_view(random_id("esc"))
    EnvelopeProducer(bootstrap_servers).send(ESCROW_VIEWS, view.escrow_id, view)
    token = issue_token(GatewaySettings().jwt_hs256_key.get_secret_value(), view.buyer_id)

    def read() -> int:  # a new connection each time: the kernel picks the worker
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{gateway}/api/escrow/{view.escrow_id}", headers=headers).status_code

    eventually(lambda: read() == 200, 30, interval_s=0.1, what="the view served")
    eventually(
        lambda: all(read() == 200 for _ in range(20)), 30, interval_s=0.1, what="every worker"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("views-worker-")) == [
        "views-worker-0",
        "views-worker-0.lock",
        "views-worker-1",
        "views-worker-1.lock",
    ]


def test_metrics_sum_what_every_worker_counted(gateway: str) -> None:
    for _ in range(6):  # new connections, spread over the workers
        forged = httpx.post(
            f"{gateway}/api/webhooks/stripe",
            content=b"{}",
            headers={"Stripe-Signature": "t=1,v1=0", **JSON},
        )
        assert forged.status_code == 400

    counted = scrape(PORT, "gateway_webhooks_total", provider="stripe", outcome="bad_signature")

    assert counted == 6
