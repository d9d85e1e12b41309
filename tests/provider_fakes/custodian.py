"""A local custodian speaking ``connectors/custodian_api.md``, for tests and the demo.

Idempotent like the real one: a repeated ``Idempotency-Key`` gets the first answer and creates
nothing; ``GET /_fake/objects`` lists the objects created.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.provider_fakes.controls import Controls


def create_app() -> Starlette:
    controls = Controls()
    answers: dict[str, dict[str, Any]] = {}
    objects: list[dict[str, Any]] = []

    def remember(key: str | None, make: Any) -> Response:
        if key is None:
            return JSONResponse({"error": {"message": "Idempotency-Key required"}}, status_code=400)
        if key not in answers:
            answers[key] = make()
            objects.append(answers[key])
        return JSONResponse(answers[key], status_code=201)

    async def guarded(request: Request, make: Any) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"error": {"message": "unauthorized"}}, status_code=401)
        return await controls.intercept(request) or remember(
            request.headers.get("idempotency-key"), make
        )

    async def deposit_address(request: Request) -> Response:
        body = await request.json()
        key = request.headers.get("idempotency-key", "")
        digest = hashlib.sha256(key.encode()).hexdigest()
        return await guarded(
            request,
            lambda: {
                "id": f"dep_{digest[:16]}",
                "address": f"0x{digest[:40]}",
                "status": "awaiting_funds",
                "reference": body["reference"],
                "amount_cents": body["amount_cents"],
            },
        )

    async def transfer(request: Request) -> Response:
        body = await request.json()
        digest = hashlib.sha256(request.headers.get("idempotency-key", "").encode()).hexdigest()
        return await guarded(
            request,
            lambda: {
                "id": f"trf_{digest[:16]}",
                "status": "submitted",
                "to_address": body["to_address"],
                "amount_cents": body["amount_cents"],
                "reference": body["reference"],
            },
        )

    async def return_deposit(request: Request) -> Response:
        digest = hashlib.sha256(request.headers.get("idempotency-key", "").encode()).hexdigest()
        deposit_id = request.path_params["deposit_id"]
        return await guarded(
            request,
            lambda: {
                "id": f"ret_{digest[:16]}",
                "status": "submitted",
                "deposit_id": deposit_id,
            },
        )

    async def list_objects(request: Request) -> Response:
        return JSONResponse(objects)

    return Starlette(
        routes=[
            Route("/v1/deposit-addresses", deposit_address, methods=["POST"]),
            Route("/v1/transfers", transfer, methods=["POST"]),
            Route("/v1/deposits/{deposit_id}/return", return_deposit, methods=["POST"]),
            Route("/_fake/objects", list_objects, methods=["GET"]),
            *controls.routes(),
        ]
    )
