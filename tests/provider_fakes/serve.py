"""Running a fake provider: ``python -m tests.provider_fakes.serve custodian --port 12301`` (or in a
background thread, for tests). ``stripe_recorder`` is Stripe: stripe-mock behind a recording
proxy."""

from __future__ import annotations

import argparse
import importlib
import os
import threading
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tests.eventually import eventually

FAKES = ["custodian", "screening", "stripe_recorder"]


def app_of(name: str, **options: Any) -> Starlette:
    """The fake ``name``'s app, built with ``options`` (see its ``create_app``)."""
    module = importlib.import_module(f"tests.provider_fakes.{name}")
    app: Starlette = module.create_app(**options)
    return app


def options_from_env(name: str) -> dict[str, Any]:
    """A fake process's options: the custodian sends its webhooks to ``CUSTODIAN_WEBHOOK_URL``,
    signed with ``CUSTODIAN_WEBHOOK_SECRET``; the Stripe recorder forwards to ``STRIPE_MOCK_URL``
    (default stripe-mock's 127.0.0.1:12111)."""
    if name == "stripe_recorder" and "STRIPE_MOCK_URL" in os.environ:
        return {"upstream": os.environ["STRIPE_MOCK_URL"]}
    if name != "custodian" or "CUSTODIAN_WEBHOOK_URL" not in os.environ:
        return {}
    options: dict[str, Any] = {"webhook_url": os.environ["CUSTODIAN_WEBHOOK_URL"]}
    if "CUSTODIAN_WEBHOOK_SECRET" in os.environ:
        options["webhook_secret"] = os.environ["CUSTODIAN_WEBHOOK_SECRET"]
    return options


class BackgroundServer:
    """A uvicorn server in a daemon thread on 127.0.0.1:``port``; ``stop()`` ends it."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout_s: float = 10) -> BackgroundServer:
        self._thread.start()
        try:
            eventually(self._started, timeout_s, what=f"fake server on {self.url} started")
        except TimeoutError:
            raise RuntimeError(f"fake server on {self.url} did not start") from None
        return self

    def _started(self) -> bool:
        """:raises RuntimeError: the server's thread ended before it started (e.g. port in use)."""
        if not self._server.started and not self._thread.is_alive():
            raise RuntimeError(f"fake server on {self.url} did not start")
        return self._server.started

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("fake", choices=FAKES)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = app_of(args.fake, **options_from_env(args.fake))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
