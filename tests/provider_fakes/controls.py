"""What every fake provider shares: recorded calls and injected faults, driven over HTTP.

Control endpoints (JSON): ``POST /_fake/fail {"statuses": [503, 503]}`` answers the next requests
with those statuses; ``{"statuses": [503], "forever": true}`` keeps failing;
``POST /_fake/delay {"seconds": 1.5}`` delays every answer; ``GET /_fake/calls`` lists the
requests served; ``POST /_fake/reset`` clears it all.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Controls:
    failures: deque[int] = field(default_factory=deque)
    fail_forever: int | None = None
    delay_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def intercept(self, request: Request) -> Response | None:
        """Records the call, waits the delay, and answers an injected failure if one is due."""
        body = await request.body()
        self.calls.append(
            {
                "method": request.method,
                "path": request.url.path,
                "idempotency_key": request.headers.get("idempotency-key"),
                "body": _decoded(body, request.headers.get("content-type", "")),
            }
        )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status = self.failures.popleft() if self.failures else self.fail_forever
        if status is not None:
            return JSONResponse({"error": {"message": "injected failure"}}, status_code=status)
        return None

    def routes(self) -> list[Route]:
        return [
            Route("/_fake/fail", self._fail, methods=["POST"]),
            Route("/_fake/delay", self._delay, methods=["POST"]),
            Route("/_fake/calls", self._calls, methods=["GET"]),
            Route("/_fake/reset", self._reset, methods=["POST"]),
        ]

    async def _fail(self, request: Request) -> Response:
        spec = await request.json()
        if spec.get("forever"):
            self.fail_forever = spec["statuses"][0]
        else:
            self.failures.extend(spec["statuses"])
        return JSONResponse({"ok": True})

    async def _delay(self, request: Request) -> Response:
        self.delay_s = float((await request.json())["seconds"])
        return JSONResponse({"ok": True})

    async def _calls(self, request: Request) -> Response:
        return JSONResponse(self.calls)

    async def _reset(self, request: Request) -> Response:
        self.failures.clear()
        self.fail_forever, self.delay_s = None, 0.0
        self.calls.clear()
        return JSONResponse({"ok": True})


def _decoded(body: bytes, content_type: str) -> Any:
    """JSON as objects, a form (Stripe's requests) as a dict of its fields, else text."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode()))
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode(errors="replace")
