"""The HTTP gateway (DESIGN.md §7): ``create_app(settings, publisher, views, auth, ledger)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from gateway.auth import Authenticator
from gateway.ports import Ledger, Publisher, Views
from gateway.problems import Problem, http_exception_handler, problem_handler
from gateway.publisher import KafkaPublisher
from gateway.routes import admin, commands, escrow, health, webhooks
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
            *admin.routes,
            *commands.routes,
            *webhooks.routes,
            *health.routes,
        ],
        exception_handlers={Problem: problem_handler, HTTPException: http_exception_handler},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.publisher = publisher
    app.state.views = views
    app.state.auth = auth
    app.state.ledger = ledger
    return app


def main() -> None:
    settings = GatewaySettings()
    publisher = KafkaPublisher(
        settings.kafka_bootstrap_servers, settings.schema_registry_url, settings.publish_timeout_s
    )
    views = ViewTable(settings.kafka_bootstrap_servers, Path(settings.view_table_dir))
    ledger = LedgerTable(settings.kafka_bootstrap_servers, Path(settings.ledger_table_dir))
    auth = Authenticator(
        settings.jwt_hs256_key.get_secret_value(), settings.jwt_jwks_url, settings.jwt_audience
    )
    uvicorn.run(
        create_app(settings, publisher, views, auth, ledger),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
