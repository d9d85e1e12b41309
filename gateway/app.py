"""The HTTP gateway (DESIGN.md §7): ``create_app(settings, publisher, views, auth, ledger)``, and
``main()``, which serves it.

Several workers (``GATEWAY_WORKERS`` > 1) share one listening socket (uvicorn's supervisor; the
kernel hands each new connection to one of them). Each worker is a whole gateway: its own
producer and its own RocksDB copies of ``escrow.views.v1`` and ``ledger.postings.v1``, in the
first free slot ``<VIEW_TABLE_DIR>-worker-<i>`` (a lock file claims it, so a restarted worker
takes over its predecessor's copy and reads on from its offsets). ``/metrics`` then sums the
workers' counters through prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set
to ``<VIEW_TABLE_DIR>-metrics``, emptied at start).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from gateway.auth import Authenticator
from gateway.body_limit import BodyLimit
from gateway.ports import Ledger, Publisher, Views
from gateway.problems import Problem, http_exception_handler, problem_handler
from gateway.publisher import KafkaPublisher
from gateway.rate_limit import MutationLimits
from gateway.routes import admin, admin_queues, commands, escrow, health, my_escrows, webhooks
from gateway.routes.health import MULTIPROC_ENV
from gateway.settings import GatewaySettings
from state_stores.ledger_table import LedgerTable
from state_stores.view_table import ViewTable


def create_app(
    settings: GatewaySettings,
    publisher: Publisher,
    views: Views,
    auth: Authenticator,
    ledger: Ledger,
) -> Starlette:
    """The lifespan starts the view and ledger tables and, on shutdown, stops them and flushes
    the producer."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        views.start()
        ledger.start()
        yield
        ledger.stop()
        views.stop()
        publisher.close()

    app = Starlette(
        routes=[
            *escrow.routes,
            *my_escrows.routes,
            *admin.routes,
            *admin_queues.routes,
            *commands.routes,
            *webhooks.routes,
            *health.routes,
        ],
        exception_handlers={Problem: problem_handler, HTTPException: http_exception_handler},
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limits = MutationLimits(settings.mutations_per_user, settings.mutations_per_ip)
    app.state.publisher = publisher
    app.state.views = views
    app.state.auth = auth
    app.state.ledger = ledger
    return app


def build(settings: GatewaySettings, slot: str = "") -> Starlette:
    """The gateway with its Kafka producer, tables (in ``<dir><slot>``) and authenticator."""
    bootstrap, security = settings.kafka_bootstrap_servers, settings.kafka_security()
    publisher = KafkaPublisher(
        bootstrap, settings.schema_registry_url, settings.publish_timeout_s, security
    )
    views = ViewTable(bootstrap, Path(settings.view_table_dir + slot), consumer_config=security)
    ledger = LedgerTable(
        bootstrap, Path(settings.ledger_table_dir + slot), consumer_config=security
    )
    auth = Authenticator(
        settings.jwt_hs256_key.get_secret_value(),
        settings.jwt_jwks_url,
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    return create_app(settings, publisher, views, auth, ledger)


# The lock files of the worker slots this process holds (held until it ends).
_SLOT_LOCKS: list[IO[str]] = []


def worker() -> Starlette:
    """A worker's gateway (uvicorn's app factory when ``GATEWAY_WORKERS`` > 1), in the first
    slot no live worker holds.

    :raises RuntimeError: every slot is held (more workers than ``GATEWAY_WORKERS``)."""
    settings = GatewaySettings()
    for index in range(settings.gateway_workers):
        lock = Path(f"{settings.view_table_dir}-worker-{index}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        held = lock.open("w")
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.close()
            continue
        _SLOT_LOCKS.append(held)
        return build(settings, f"-worker-{index}")
    raise RuntimeError(f"all {settings.gateway_workers} gateway worker slots are held")


def main() -> None:
    settings = GatewaySettings()
    serving: dict[str, Any] = {
        "host": settings.gateway_host,
        "port": settings.gateway_port,
        "log_level": settings.log_level.lower(),
        "loop": "uvloop",
        "http": "httptools",
    }
    if settings.gateway_workers == 1:
        uvicorn.run(build(settings), **serving)
        return
    metrics = Path(f"{settings.view_table_dir}-metrics")
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(metrics)  # the workers' prometheus_client reads it at import
    uvicorn.run(
        "gateway.app:worker",
        factory=True,
        workers=settings.gateway_workers,
        **serving,
    )


if __name__ == "__main__":
    main()
