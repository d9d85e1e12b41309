"""Reading escrows and sending them commands (DESIGN.md §7; seeds: "API Endpoints Overview").

A mutation answers 202 with the command's ``Location``; the escrow topology decides. The gateway
checks who may ask (the topology checks again) and what the body says, nothing else.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.topics import ESCROW_COMMANDS
from gateway.ports import PublishError, authenticator, limits, publisher, views
from gateway.problems import Problem
from gateway.responses import JSONResponse
from gateway.views import etag, render_json, require_party
from kernel import mapping
from kernel.messages import (
    CancelEscrow,
    CommandMeta,
    EscrowCommand,
    MarkDelivered,
    RaiseDispute,
    ReleaseFunds,
    ResolveDispute,
)
from kernel.model import DisputeResolution
from kernel.permissions import PERMISSIONS, Party
from schemas.escrow.v1.views_pb2 import EscrowView

_KEY_NAMESPACE = uuid.UUID("a3c5e0f2-7d41-4f6b-8b1e-5c2d9e4f7a10")
MAX_TEXT = 500


def command_id_for(escrow_id: str, user_id: str, action: str, idempotency_key: str | None) -> str:
    """``<escrow_id>~<hex>``: the escrow id is readable from the command id (GET
    /api/commands/{id} on any gateway), and the same Idempotency-Key from the same user for the
    same action gives the same command id, which the escrow topology applies once. (A key reused
    for another action is another command, never silently taken for a duplicate.)"""
    if idempotency_key is None:
        return f"{escrow_id}~{uuid.uuid4().hex}"
    if not 1 <= len(idempotency_key) <= 255:
        raise Problem(400, "invalid-idempotency-key", "Idempotency-Key must be 1-255 characters")
    name = f"{user_id}/{action}/{idempotency_key}"
    return f"{escrow_id}~{uuid.uuid5(_KEY_NAMESPACE, name).hex}"


async def get_escrow(request: Request) -> Response:
    """
    summary: An escrow's view (buyer, seller, admin); ETag = its version
    responses:
      200: {description: the escrow}
      403: {description: not a party}
      404: {description: unknown}
    """
    principal = authenticator(request).principal(request)
    view = _view(request, request.path_params["escrow_id"])
    party = require_party(view, principal, {Party.BUYER, Party.SELLER, Party.ADMIN})
    return _escrow(view, party)


async def get_contract_escrow(request: Request) -> Response:
    """
    summary: The escrow of a contract, with payment initialization (client secret for the buyer)
    responses:
      200: {description: the escrow}
      403: {description: not a party}
      404: {description: unknown}
    """
    principal = authenticator(request).principal(request)
    escrow_id = views(request).escrow_of_contract(request.path_params["contract_id"])
    if escrow_id is None:
        raise Problem(404, "not-found", "No escrow for this contract (yet)")
    view = _view(request, escrow_id)
    party = require_party(view, principal, {Party.BUYER, Party.SELLER})
    return _escrow(view, party)


def _escrow(view: EscrowView, party: Party) -> Response:
    body = render_json(view, party)
    return Response(body, media_type="application/json", headers={"ETag": etag(view)})


def command_endpoint(
    kind: type[EscrowCommand], build: Callable[[CommandMeta, dict[str, Any]], EscrowCommand]
) -> Callable[[Request], Any]:
    """An endpoint sending a ``kind`` command, built by ``build`` from its meta and the body.
    Parties the permission table never lets send ``kind`` get 403 here; everything else about
    the escrow (state, version, timing) the escrow topology decides."""
    allowed = PERMISSIONS[kind].parties

    async def endpoint(request: Request) -> Response:
        principal = authenticator(request).principal(request)
        escrow_id = request.path_params["escrow_id"]
        require_party(_view(request, escrow_id), principal, allowed)
        limits(request).check(principal.user_id, request.client.host if request.client else "")
        body = await _body(request)
        command_id = command_id_for(
            escrow_id, principal.user_id, kind.__name__, request.headers.get("idempotency-key")
        )
        meta = CommandMeta(
            command_id,
            escrow_id,
            principal.actor,
            datetime.now(UTC),
            _expected_version(request),
            request.headers.get("x-correlation-id", command_id),
        )
        try:
            await publisher(request).publish(
                ESCROW_COMMANDS, escrow_id, mapping.COMMANDS.to_proto(build(meta, body))
            )
        except PublishError as exc:
            raise Problem(503, "unavailable", "The command could not be queued; retry") from exc
        location = f"/api/commands/{command_id}"
        return JSONResponse(
            {"command_id": command_id, "status": "PENDING"},
            status_code=202,
            headers={"Location": location},
        )

    return endpoint


def _view(request: Request, escrow_id: str) -> EscrowView:
    view = views(request).get(escrow_id)
    if view is None:
        raise Problem(404, "not-found", "No such escrow")
    return view


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise Problem(400, "malformed-body", "The body is not JSON") from exc
    if not isinstance(body, dict):
        raise Problem(400, "malformed-body", "The body must be a JSON object")
    for name in ("reason", "note"):
        value = body.get(name, "")
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise Problem(422, "invalid-field", f"{name} must be a string of at most {MAX_TEXT}")
    return body


def _expected_version(request: Request) -> int | None:
    """``If-Match: "5"`` (or ``W/"5"``) -> 5."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d+)"?\s*', header)
    if match is None:
        raise Problem(400, "invalid-if-match", 'If-Match must be an escrow version, e.g. "5"')
    return int(match.group(1))


_RESOLUTIONS = {r.name: r for r in (DisputeResolution.FAVOR_SELLER, DisputeResolution.FAVOR_BUYER)}


def _resolution(body: dict[str, Any]) -> DisputeResolution:
    resolution = _RESOLUTIONS.get(str(body.get("resolution", "")))
    if resolution is None:
        raise Problem(422, "invalid-field", "resolution must be FAVOR_SELLER or FAVOR_BUYER")
    return resolution


mark_delivered = command_endpoint(
    MarkDelivered, lambda meta, b: MarkDelivered(meta, b.get("note", ""))
)
mark_delivered.__doc__ = """
summary: The seller marks the assets delivered
responses: {202: {description: queued; Location names the command}}
"""
release = command_endpoint(ReleaseFunds, lambda meta, b: ReleaseFunds(meta))
release.__doc__ = """
summary: The buyer releases the funds to the seller
responses: {202: {description: queued; Location names the command}}
"""
dispute = command_endpoint(RaiseDispute, lambda meta, b: RaiseDispute(meta, b.get("reason", "")))
dispute.__doc__ = """
summary: The buyer or seller raises a dispute
responses: {202: {description: queued; Location names the command}}
"""
cancel = command_endpoint(CancelEscrow, lambda meta, b: CancelEscrow(meta, b.get("reason", "")))
cancel.__doc__ = """
summary: Cancel (before funding) or refund (seller/admin, funded, with a reason)
responses: {202: {description: queued; Location names the command}}
"""
resolve = command_endpoint(
    ResolveDispute, lambda meta, b: ResolveDispute(meta, _resolution(b), b.get("note", ""))
)
resolve.__doc__ = """
summary: An admin resolves a dispute (resolution FAVOR_SELLER or FAVOR_BUYER)
responses: {202: {description: queued; Location names the command}}
"""

routes = [
    Route("/api/escrow/{escrow_id}", get_escrow, methods=["GET"]),
    Route("/api/contracts/{contract_id}/escrow", get_contract_escrow, methods=["GET"]),
    Route("/api/escrow/{escrow_id}/mark-delivered", mark_delivered, methods=["POST"]),
    Route("/api/escrow/{escrow_id}/release", release, methods=["POST"]),
    Route("/api/escrow/{escrow_id}/dispute", dispute, methods=["POST"]),
    Route("/api/escrow/{escrow_id}/cancel", cancel, methods=["POST"]),
    # One dispute per escrow: a dispute is named by its escrow's id.
    Route("/api/disputes/{escrow_id}/resolve", resolve, methods=["POST"]),
]
