"""A recording proxy in front of stripe-mock: Stripe that remembers, for tests and the demo.

stripe-mock validates every request against Stripe's OpenAPI spec and answers a fixture, but keeps
nothing: a PaymentIntent it created is unknown to the next request. localstripe (PyPI) keeps state
but has no Transfers, which the escrow's release is. So this proxy forwards every request to
stripe-mock and keeps what Stripe would: the PaymentIntents, Transfers and Refunds created (the
parameters sent laid over stripe-mock's fixture, ``created`` now), each with the
``Idempotency-Key`` that created it. A repeated key is answered with the first object and creates
nothing, as Stripe does. Retrieving and listing those objects (``created[gte]``, ``limit``,
``starting_after``; newest first) is answered from the records (an unknown id: 404
``resource_missing``, as Stripe answers); everything else is stripe-mock's.

Control endpoints, besides ``tests.provider_fakes.controls``' (faults, ``GET /_fake/calls``):
``GET /_fake/objects`` lists the objects created, each with its ``idempotency_key`` (``?
idempotency_key=...`` for one key's); ``POST /_fake/objects/{id} {"status": "succeeded",
"amount_received": 500000}`` changes fields of one, as Stripe would after the buyer paid (no
webhook is sent: the test plays a lost one, or posts it itself).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.provider_fakes.controls import Controls

STRIPE_MOCK = "http://127.0.0.1:12111"
# The parameters of a create request kept on the object (stripe-mock echoes only some), and the
# ones that are integers.
KEPT = {
    "payment_intents": ("amount", "currency", "metadata", "transfer_group"),
    "transfers": (
        "amount",
        "currency",
        "destination",
        "transfer_group",
        "metadata",
        "source_transaction",
    ),
    "refunds": ("amount", "payment_intent", "metadata"),
}
INTEGERS = {"amount", "amount_received"}
PREFIXES = {"payment_intents": "pi_", "transfers": "tr_", "refunds": "re_"}


def create_app(upstream: str = STRIPE_MOCK) -> Starlette:
    """:param upstream: stripe-mock's URL."""
    controls = Controls()
    objects: dict[str, dict[str, Any]] = {}
    by_key: dict[str, str] = {}

    async def forward(request: Request, body: bytes) -> httpx.Response:
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with httpx.AsyncClient(base_url=upstream) as client:
            return await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=body,
                headers=headers,
            )

    async def proxied(request: Request) -> Response:
        body = await request.body()
        if failure := await controls.intercept(request):
            return failure
        answer = await forward(request, body)
        return Response(answer.content, answer.status_code, media_type="application/json")

    async def create(request: Request) -> Response:
        if request.path_params["resource"] not in KEPT:
            return await proxied(request)
        body = await request.body()
        if failure := await controls.intercept(request):
            return failure
        key = request.headers.get("idempotency-key")
        if key in by_key:
            return JSONResponse(objects[by_key[key]])
        answer = await forward(request, body)
        if answer.is_error:
            return Response(answer.content, answer.status_code, media_type="application/json")
        resource = request.path_params["resource"]
        sent = _nested(parse_qsl(body.decode()))
        made = answer.json() | {name: sent[name] for name in KEPT[resource] if name in sent}
        made |= {"created": int(time.time()), "idempotency_key": key}
        if resource == "payment_intents":
            made |= {"status": "requires_payment_method", "amount_received": 0}
            made["last_payment_error"] = None  # a new PaymentIntent has had no attempt yet
        if resource == "refunds" and made["payment_intent"] in objects:
            made["currency"] = objects[made["payment_intent"]]["currency"]
        objects[made["id"]] = _typed(made)
        if key:
            by_key[key] = made["id"]
        return JSONResponse(objects[made["id"]])

    async def retrieve(request: Request) -> Response:
        resource, object_id = request.path_params["resource"], request.path_params["object_id"]
        if resource not in KEPT:
            return await proxied(request)
        if failure := await controls.intercept(request):
            return failure
        if object_id not in objects:  # Stripe's answer; stripe-mock would invent one
            error = {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such {resource[:-1]}: '{object_id}'",
            }
            return JSONResponse({"error": error}, status_code=404)
        return JSONResponse(objects[object_id])

    async def cancel(request: Request) -> Response:
        answer = await proxied(request)
        known = objects.get(request.path_params["object_id"])
        if known is not None and answer.status_code == 200:
            known["status"] = "canceled"
            return JSONResponse(known)
        return answer

    async def listing(request: Request) -> Response:
        resource = request.path_params["resource"]
        if resource not in KEPT:
            return await proxied(request)
        if failure := await controls.intercept(request):
            return failure
        query = request.query_params
        since = int(query.get("created[gte]", 0))
        newest_first = sorted(
            (
                o
                for o in objects.values()
                if o["id"].startswith(PREFIXES[resource]) and o["created"] >= since
            ),
            key=lambda o: -o["created"],
        )
        if after := query.get("starting_after"):
            ids = [o["id"] for o in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :]
        limit = int(query.get("limit", 10))
        page = newest_first[:limit]
        return JSONResponse(
            {
                "object": "list",
                "url": request.url.path,
                "data": page,
                "has_more": len(newest_first) > limit,
            }
        )

    async def list_objects(request: Request) -> Response:
        key = request.query_params.get("idempotency_key")
        return JSONResponse([o for o in objects.values() if key in (None, o["idempotency_key"])])

    async def change(request: Request) -> Response:
        known = objects[request.path_params["object_id"]]
        known.update(_typed(await request.json()))
        return JSONResponse(known)

    return Starlette(
        routes=[
            *controls.routes(),
            Route("/_fake/objects", list_objects, methods=["GET"]),
            Route("/_fake/objects/{object_id}", change, methods=["POST"]),
            Route("/v1/{resource}", create, methods=["POST"]),
            Route("/v1/{resource}", listing, methods=["GET"]),
            Route("/v1/{resource}/{object_id}", retrieve, methods=["GET"]),
            Route("/v1/payment_intents/{object_id}/cancel", cancel, methods=["POST"]),
            Route("/{path:path}", proxied, methods=["GET", "POST", "DELETE"]),
        ]
    )


def _nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[escrow_id]=e1``) as nested objects."""
    nested: dict[str, Any] = {}
    for key, value in pairs:
        *path, name = key.replace("]", "").split("[")
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[name] = value
    return nested


def _typed(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v) if k in INTEGERS and v is not None else v for k, v in fields.items()}
