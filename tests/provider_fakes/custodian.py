"""A local custodian speaking ``connectors/custodian_api.md``, for tests and the demo.

Idempotent like the real one: a repeated ``Idempotency-Key`` gets the first answer and creates
nothing; ``GET /_fake/objects`` lists the objects created. Transfers and returns are "submitted"
and, when the fake has a ``webhook_url``, settle ``settle_after_s`` later with a signed
``transfer.*`` / ``return.*`` webhook, as on chain. ``POST /_fake/settlement {"outcome":
"completed" | "failed" | "hold"}`` decides how the next ones settle ("hold": not until
``POST /_fake/settle {"id": ..., "outcome": ...}``).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.custodian import SIGNATURE_HEADER, sign
from tests.provider_fakes.controls import Controls
from tests.provider_fakes.provider_webhooks import custodian_payout_event


def create_app(
    webhook_url: str | None = None,
    webhook_secret: str = "custodian_webhook_dev",  # noqa: S107 - the dev default
    settle_after_s: float = 0.2,
) -> Starlette:
    """:param webhook_url: where settlement webhooks go (the gateway's custodian endpoint); None:
        nothing settles by itself.
    :param webhook_secret: the HMAC secret the webhooks are signed with.
    :param settle_after_s: how long a transfer or return takes "on chain".
    """
    controls = Controls()
    answers: dict[str, dict[str, Any]] = {}
    objects: list[dict[str, Any]] = []
    settlement = {"outcome": "completed"}

    def remember(key: str | None, make: Any) -> Response:
        if key is None:
            return JSONResponse({"error": {"message": "Idempotency-Key required"}}, status_code=400)
        task = None
        if key not in answers:
            answers[key] = make()
            objects.append(answers[key])
            if answers[key]["id"].startswith(("trf_", "ret_")) and settlement["outcome"] != "hold":
                task = BackgroundTask(settle_later, answers[key], settlement["outcome"])
        return JSONResponse(answers[key], status_code=201, background=task)

    async def settle_later(payout: dict[str, Any], outcome: str) -> None:
        await asyncio.sleep(settle_after_s)
        await send_settlement(payout, outcome)

    async def send_settlement(payout: dict[str, Any], outcome: str, code: str = "") -> None:
        if webhook_url is None:
            return
        payout["status"] = outcome
        body = custodian_payout_event(payout, outcome, code)
        headers = {SIGNATURE_HEADER: sign(webhook_secret, body)}
        async with httpx.AsyncClient(timeout=10) as client:
            await client.post(webhook_url, content=body, headers=headers)

    async def set_settlement(request: Request) -> Response:
        settlement["outcome"] = (await request.json())["outcome"]
        return JSONResponse(settlement)

    async def settle(request: Request) -> Response:
        body = await request.json()
        payout = next(o for o in objects if o["id"] == body["id"])
        await send_settlement(payout, body["outcome"], body.get("failure_code", ""))
        return JSONResponse(payout)

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
                "deposit_id": body["deposit_id"],
                "external_id": body.get("external_id", ""),
            },
        )

    def deposit(deposit_id: str) -> dict[str, Any]:
        return next((o for o in objects if o["id"] == deposit_id), {})

    async def return_deposit(request: Request) -> Response:
        body = await request.json()
        digest = hashlib.sha256(request.headers.get("idempotency-key", "").encode()).hexdigest()
        deposit_id = request.path_params["deposit_id"]
        return await guarded(
            request,
            lambda: {
                "id": f"ret_{digest[:16]}",
                "status": "submitted",
                "deposit_id": deposit_id,
                "reference": body.get("reference", ""),
                "external_id": body.get("external_id", ""),
                "reason": body.get("reason", ""),
                "amount_cents": deposit(deposit_id).get("amount_cents", 0),
            },
        )

    async def close_deposit_address(request: Request) -> Response:
        deposit_id = request.path_params["deposit_id"]
        known = deposit(deposit_id)
        if known:
            known["status"] = "closed"
        return await guarded(request, lambda: {"id": deposit_id, "status": "closed"})

    async def list_objects(request: Request) -> Response:
        return JSONResponse(objects)

    return Starlette(
        routes=[
            Route("/v1/deposit-addresses", deposit_address, methods=["POST"]),
            Route("/v1/transfers", transfer, methods=["POST"]),
            Route("/v1/deposits/{deposit_id}/return", return_deposit, methods=["POST"]),
            Route(
                "/v1/deposit-addresses/{deposit_id}/close", close_deposit_address, methods=["POST"]
            ),
            Route("/_fake/settlement", set_settlement, methods=["POST"]),
            Route("/_fake/settle", settle, methods=["POST"]),
            Route("/_fake/objects", list_objects, methods=["GET"]),
            *controls.routes(),
        ]
    )
