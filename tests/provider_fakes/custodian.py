"""A local custodian speaking ``connectors/custodian_api.md``, for tests and the demo.

Idempotent like the real one: a repeated ``Idempotency-Key`` gets the first answer and creates
nothing; ``GET /_fake/objects`` lists the objects created. The read endpoints answer from the same
records. Transfers and returns are "submitted" and, when the fake has a ``webhook_url``, settle
``settle_after_s`` later with a signed ``transfer.*`` / ``return.*`` webhook, as on chain.
``POST /_fake/settlement {"outcome": "completed" | "failed" | "hold"}`` decides how the next ones
settle ("hold": not until ``POST /_fake/settle {"id": ..., "outcome": ...}``, which settles one
with or without a webhook URL).

A buyer paying: ``POST /_fake/deposits/{deposit_id}/confirm {"from_address": ..., "amount_cents":
...}`` (amount: the expected one by default) records the deposit and sends ``deposit.confirmed``.
Lost webhooks: ``POST /_fake/drop-webhooks {"deposit_id": ..., "type": ..., "id": ...}`` drops
every later webhook matching all the fields given (``id``: the transfer or return); the dropped
ones are listed by ``GET /_fake/dropped-webhooks``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.custodian import SIGNATURE_HEADER, sign
from tests.provider_fakes.controls import Controls
from tests.provider_fakes.provider_webhooks import JSON, custodian_payout_event, deposit_confirmed

MAX_PAGE = 100


def create_app(
    webhook_url: str | None = None,
    webhook_secret: str = "custodian_webhook_dev",  # noqa: S107 - the dev default
    settle_after_s: float = 0.2,
) -> Starlette:
    """:param webhook_url: where webhooks go (the gateway's custodian endpoint); None: nothing
        settles by itself and no webhook is sent.
    :param webhook_secret: the HMAC secret the webhooks are signed with.
    :param settle_after_s: how long a transfer or return takes "on chain".
    """
    controls = Controls()
    answers: dict[str, dict[str, Any]] = {}
    objects: list[dict[str, Any]] = []
    settlement = {"outcome": "completed"}
    drop_rules: list[dict[str, str]] = []
    dropped: list[dict[str, Any]] = []

    def remember(key: str | None, make: Any) -> Response:
        if key is None:
            return JSONResponse({"error": {"message": "Idempotency-Key required"}}, status_code=400)
        task = None
        if key not in answers:
            answers[key] = {**make(), "created": int(time.time())}
            objects.append(answers[key])
            payout = answers[key]["id"].startswith(("trf_", "ret_"))
            if payout and webhook_url and settlement["outcome"] != "hold":
                task = BackgroundTask(settle_later, answers[key], settlement["outcome"])
        return JSONResponse(answers[key], status_code=201, background=task)

    async def settle_later(payout: dict[str, Any], outcome: str) -> None:
        await asyncio.sleep(settle_after_s)
        await settle_payout(payout, outcome)

    async def settle_payout(payout: dict[str, Any], outcome: str, code: str = "") -> None:
        payout["status"] = outcome
        if outcome == "failed":
            payout["failure_code"] = code or "chain_reverted"
        await send(custodian_payout_event(payout, outcome, payout.get("failure_code", "")))

    async def send(body: bytes) -> None:
        """Signs and posts the webhook, unless a drop rule matches it (a lost webhook)."""
        event = json.loads(body)
        data = event["data"]
        facts = {
            "type": event["type"],
            "deposit_id": data.get("deposit_id"),
            "id": data.get("transfer_id") or data.get("return_id") or data.get("deposit_id"),
        }
        if any(all(facts.get(k) == v for k, v in rule.items()) for rule in drop_rules):
            dropped.append(event)
            return
        if webhook_url is None:
            return
        headers = {SIGNATURE_HEADER: sign(webhook_secret, body), **JSON}
        async with httpx.AsyncClient(timeout=10) as client:
            await client.post(webhook_url, content=body, headers=headers)

    def find(object_id: str) -> dict[str, Any]:
        return next((o for o in objects if o["id"] == object_id), {})

    async def guarded(request: Request, make: Any) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"error": {"message": "unauthorized"}}, status_code=401)
        return await controls.intercept(request) or remember(
            request.headers.get("idempotency-key"), make
        )

    async def deposit_address(request: Request) -> Response:
        body = await request.json()
        digest = _digest(request)
        return await guarded(
            request,
            lambda: {
                "id": f"dep_{digest[:16]}",
                "address": f"0x{digest[:40]}",
                "status": "awaiting_funds",
                "reference": body["reference"],
                "amount_cents": body["amount_cents"],
                "currency": body.get("currency", "USD"),
                "deposit": None,
            },
        )

    async def transfer(request: Request) -> Response:
        body = await request.json()
        digest = _digest(request)
        return await guarded(
            request,
            lambda: {
                "id": f"trf_{digest[:16]}",
                "status": "submitted",
                "to_address": body["to_address"],
                "amount_cents": body["amount_cents"],
                "currency": body.get("currency", "USD"),
                "reference": body["reference"],
                "deposit_id": body["deposit_id"],
                "external_id": body.get("external_id", ""),
            },
        )

    async def return_deposit(request: Request) -> Response:
        body = await request.json()
        digest = _digest(request)
        deposit = find(request.path_params["deposit_id"])
        received = deposit.get("deposit") or {}
        return await guarded(
            request,
            lambda: {
                "id": f"ret_{digest[:16]}",
                "status": "submitted",
                "deposit_id": request.path_params["deposit_id"],
                "reference": body.get("reference", ""),
                "external_id": body.get("external_id", ""),
                "reason": body.get("reason", ""),
                "amount_cents": received.get("amount_cents", deposit.get("amount_cents", 0)),
                "currency": deposit.get("currency", "USD"),
            },
        )

    async def close_deposit_address(request: Request) -> Response:
        deposit_id = request.path_params["deposit_id"]
        known = find(deposit_id)
        if known and not known.get("deposit"):
            known["status"] = "closed"
        return await guarded(request, lambda: {"id": deposit_id, "status": "closed"})

    def reader(prefix: str) -> Any:
        async def read(request: Request) -> Response:
            if failure := await controls.intercept(request):
                return failure
            found = find(request.path_params["object_id"])
            if not found or not found["id"].startswith(prefix):
                return JSONResponse({"error": {"message": "not found"}}, status_code=404)
            return JSONResponse(found)

        return read

    def lister(prefix: str, counted_from: Callable[[dict[str, Any]], int | None]) -> Any:
        """A list of the objects with ``prefix`` whose ``counted_from`` time is at or after the
        query's ``since`` (None: not listed), paged like the real API."""

        async def listing(request: Request) -> Response:
            if failure := await controls.intercept(request):
                return failure
            query = request.query_params
            since, after = int(query.get("since", 0)), query.get("starting_after")
            matching = [
                o
                for o in objects
                if o["id"].startswith(prefix) and (counted_from(o) or -1) >= since
            ]
            if after:
                position = next(i for i, o in enumerate(matching) if o["id"] == after)
                matching = matching[position + 1 :]
            limit = min(int(query.get("limit", MAX_PAGE)), MAX_PAGE)
            return JSONResponse({"data": matching[:limit], "has_more": len(matching) > limit})

        return listing

    async def confirm_deposit(request: Request) -> Response:
        body = await request.json()
        address = find(request.path_params["deposit_id"])
        tx_hash = "0x" + hashlib.sha256(f"{address['id']}/tx".encode()).hexdigest()
        amount = int(body.get("amount_cents", address["amount_cents"]))
        address["status"] = "confirmed"
        address["deposit"] = {
            "from_address": body["from_address"],
            "amount_cents": amount,
            "tx_hash": tx_hash,
            "confirmed_at": int(time.time()),
        }
        deposit_id, escrow_id = address["id"], address["reference"]
        await send(
            deposit_confirmed(
                deposit_id, escrow_id, body["from_address"], amount, address["address"], tx_hash
            )
        )
        return JSONResponse(address)

    async def drop_webhooks(request: Request) -> Response:
        drop_rules.append({k: str(v) for k, v in (await request.json()).items()})
        return JSONResponse({"rules": drop_rules})

    async def set_settlement(request: Request) -> Response:
        settlement["outcome"] = (await request.json())["outcome"]
        return JSONResponse(settlement)

    async def settle(request: Request) -> Response:
        body = await request.json()
        payout = find(body["id"])
        await settle_payout(payout, body["outcome"], body.get("failure_code", ""))
        return JSONResponse(payout)

    async def list_objects(request: Request) -> Response:
        return JSONResponse(objects)

    async def list_dropped(request: Request) -> Response:
        return JSONResponse(dropped)

    def created(o: dict[str, Any]) -> int:
        return int(o["created"])

    def confirmed(o: dict[str, Any]) -> int | None:
        return (o.get("deposit") or {}).get("confirmed_at")

    return Starlette(
        routes=[
            Route("/v1/deposit-addresses", deposit_address, methods=["POST"]),
            Route("/v1/transfers", transfer, methods=["POST"]),
            Route("/v1/deposits/{deposit_id}/return", return_deposit, methods=["POST"]),
            Route(
                "/v1/deposit-addresses/{deposit_id}/close", close_deposit_address, methods=["POST"]
            ),
            Route("/v1/deposit-addresses/{object_id}", reader("dep_"), methods=["GET"]),
            Route("/v1/transfers/{object_id}", reader("trf_"), methods=["GET"]),
            Route("/v1/returns/{object_id}", reader("ret_"), methods=["GET"]),
            Route("/v1/deposits", lister("dep_", confirmed), methods=["GET"]),
            Route("/v1/transfers", lister("trf_", created), methods=["GET"]),
            Route("/v1/returns", lister("ret_", created), methods=["GET"]),
            Route("/_fake/deposits/{deposit_id}/confirm", confirm_deposit, methods=["POST"]),
            Route("/_fake/drop-webhooks", drop_webhooks, methods=["POST"]),
            Route("/_fake/dropped-webhooks", list_dropped, methods=["GET"]),
            Route("/_fake/settlement", set_settlement, methods=["POST"]),
            Route("/_fake/settle", settle, methods=["POST"]),
            Route("/_fake/objects", list_objects, methods=["GET"]),
            *controls.routes(),
        ]
    )


def _digest(request: Request) -> str:
    """Object ids and addresses derive from the idempotency key: the same key, the same object."""
    return hashlib.sha256(request.headers.get("idempotency-key", "").encode()).hexdigest()
