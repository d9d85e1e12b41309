"""Operator endpoints: liveness, readiness (the view table caught up), metrics, OpenAPI."""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from gateway.ports import ledger, views
from gateway.problems import Problem
from gateway.responses import JSONResponse
from state_stores.ledger_table import held_cents

# Set by ``gateway.app`` when several workers serve: their metrics are summed from files there.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set from the scraped worker's tables at each scrape: with several workers, the latest wins.
VIEW_LAG = Gauge(
    "gateway_view_table_lag",
    "Records of escrow.views.v1 not yet in the table",
    multiprocess_mode="livemostrecent",
)
VALUE_HELD = Gauge(
    "escrow_value_held_cents",
    "Money the escrows hold now, all rails, from the ledger (cents)",
    multiprocess_mode="livemostrecent",
)
SCHEMAS = SchemaGenerator(
    {"openapi": "3.1.0", "info": {"title": "escrow-streams gateway", "version": "1"}}
)


async def healthz(request: Request) -> Response:
    """
    summary: Liveness
    responses: {200: {description: the process serves}}
    """
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """
    summary: Readiness - the view table has caught up with escrow.views.v1
    responses: {200: {description: ready}, 503: {description: still catching up}}
    """
    table = views(request)
    lag = table.lag()
    VIEW_LAG.set(lag)
    if not table.ready:
        raise Problem(503, "not-ready", "The view table is catching up", f"lag {lag}")
    return JSONResponse({"status": "ready", "view_lag": lag})


async def metrics(request: Request) -> Response:
    """
    summary: Prometheus metrics
    responses: {200: {description: text exposition format}}
    """
    VIEW_LAG.set(views(request).lag())
    VALUE_HELD.set(held_cents(ledger(request).balances()))
    if MULTIPROC_ENV not in os.environ:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
    workers = CollectorRegistry()
    MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
    return Response(generate_latest(workers), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    """
    summary: This document
    responses: {200: {description: OpenAPI 3.1}}
    """
    return JSONResponse(SCHEMAS.get_schema(routes=request.app.routes))


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]
