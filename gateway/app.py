"""The HTTP gateway (DESIGN.md §7): ``create_app(settings, publisher) -> Starlette``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from gateway.problems import Problem, http_exception_handler, problem_handler
from gateway.publisher import KafkaPublisher, Publisher
from gateway.routes import health, webhooks
from gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings, publisher: Publisher) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        close = getattr(publisher, "close", None)
        if close is not None:
            close()

    app = Starlette(
        routes=[*webhooks.routes, *health.routes],
        exception_handlers={Problem: problem_handler, HTTPException: http_exception_handler},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.publisher = publisher
    return app


def main() -> None:
    settings = GatewaySettings()
    publisher = KafkaPublisher(
        settings.kafka_bootstrap_servers, settings.schema_registry_url, settings.publish_timeout_s
    )
    uvicorn.run(
        create_app(settings, publisher),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="info",
    )


if __name__ == "__main__":
    main()
