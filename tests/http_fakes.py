"""Local HTTP servers for tests: the provider fakes, and a recording proxy in front of stripe-mock
(stripe-mock answers but keeps no record; the proxy lets a test see exactly what was sent, and
inject failures)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.provider_fakes.controls import Controls
from tests.provider_fakes.serve import BackgroundServer, app_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: Starlette) -> Iterator[BackgroundServer]:
    server = BackgroundServer(app, free_port()).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def fake(name: str) -> Iterator[BackgroundServer]:
    """One of ``tests.provider_fakes`` (``custodian``, ``screening``) on a free port."""
    with serving(app_of(name)) as server:
        yield server


def recording_proxy(upstream: str) -> tuple[Starlette, list[dict[str, Any]]]:
    """A proxy to ``upstream`` that records each request (form bodies decoded) and honours the
    ``tests.provider_fakes.controls`` fault injection."""
    controls = Controls()
    recorded: list[dict[str, Any]] = []

    async def forward(request: Request) -> Response:
        body = await request.body()
        recorded.append(
            {
                "method": request.method,
                "path": request.url.path,
                "idempotency_key": request.headers.get("idempotency-key"),
                "form": dict(parse_qsl(body.decode())),
            }
        )
        if failure := await controls.intercept(request):
            return failure
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with httpx.AsyncClient(base_url=upstream) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=body,
                headers=headers,
            )
        return Response(
            answer.content,
            answer.status_code,
            media_type="application/json",
            headers={"Idempotency-Key": answer.headers.get("Idempotency-Key", "")},
        )

    routes = [*controls.routes(), Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])]
    return Starlette(routes=routes), recorded


def inject_failures(server: BackgroundServer, *statuses: int, forever: bool = False) -> None:
    """Makes ``server`` (a provider fake or a recording proxy) answer its next requests with
    ``statuses``, one each; with ``forever``, answer ``statuses[0]`` to every request."""
    body = {"statuses": list(statuses), "forever": forever}
    httpx.post(f"{server.url}/_fake/fail", json=body).raise_for_status()


def calls(server: BackgroundServer) -> list[dict[str, Any]]:
    """The requests ``server`` (a provider fake or a recording proxy) has received, in order."""
    answer = httpx.get(f"{server.url}/_fake/calls")
    answer.raise_for_status()
    received: list[dict[str, Any]] = answer.json()
    return received
