"""``GET /api/escrows``: the caller's escrows, newest first, a page at a time (issue: read models,
"my escrows"; seeds 003 §8.2-8.4). Served from the view table's party index, so a page costs
O(page); the cursor is opaque to clients (base64url of the last escrow's position)."""

from __future__ import annotations

import base64
import binascii
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.ports import authenticator, views
from gateway.problems import Problem
from gateway.responses import JSONResponse
from gateway.views import party_in, render
from schemas.escrow.v1.types_pb2 import EscrowStatus
from state_stores.party_index import Role

MAX_LIMIT = 100
STATUSES = {name.removeprefix("ESCROW_STATUS_") for name in EscrowStatus.keys()} - {"UNSPECIFIED"}
_POSITION = re.compile(r"\d{20}/.+")


async def list_escrows(request: Request) -> Response:
    """
    summary: The caller's escrows, newest first; ?role=buyer|seller, ?status, ?limit (1-100, 20)
      and ?cursor (next_cursor of the page before)
    responses:
      200: {description: "escrows (each as GET /api/escrow/{id} shows it) and next_cursor (null:
        the last page)"}
      400: {description: bad role, status, limit or cursor}
      401: {description: no valid token}
    """
    principal = authenticator(request).principal(request)
    query = request.query_params
    table = views(request)
    page = table.escrows_of(
        principal.user_id,
        _roles(query.get("role")),
        _status(query.get("status")),
        _after(query.get("cursor")),
        _limit(query.get("limit", "20")),
    )
    shown = [view for escrow_id in page.escrow_ids if (view := table.get(escrow_id))]
    cursor = base64.urlsafe_b64encode(page.after.encode()).decode() if page.after else None
    body = {"escrows": [render(v, party_in(v, principal)) for v in shown], "next_cursor": cursor}
    return JSONResponse(body)


def _roles(role: str | None) -> list[Role]:
    if role is None:
        return list(Role)
    if role not in set(Role):
        raise Problem(400, "invalid-role", "role must be buyer or seller")
    return [Role(role)]


def _status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise Problem(400, "invalid-status", f"status must be one of {', '.join(sorted(STATUSES))}")
    return status


def _limit(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Problem(400, "invalid-limit", f"limit must be 1-{MAX_LIMIT}")
    return int(raw)


def _after(cursor: str | None) -> str:
    """The position a cursor names ("" for none).

    :raises Problem: 400 for a cursor this gateway did not hand out."""
    if cursor is None:
        return ""
    try:
        position = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Problem(400, "invalid-cursor", "cursor is not one this API handed out") from exc
    if not _POSITION.fullmatch(position):
        raise Problem(400, "invalid-cursor", "cursor is not one this API handed out")
    return position


routes = [Route("/api/escrows", list_escrows, methods=["GET"])]
