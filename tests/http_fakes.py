"""Local HTTP servers for tests: the provider fakes (``tests.provider_fakes``, the Stripe recorder
in front of stripe-mock included), on free ports, and what a test asks them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

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
def fake(name: str, **options: Any) -> Iterator[BackgroundServer]:
    """One of ``tests.provider_fakes`` (``custodian``, ``screening``, ``stripe_recorder``) on a
    free port, built with ``options`` (see its ``create_app``)."""
    with serving(app_of(name, **options)) as server:
        yield server


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
