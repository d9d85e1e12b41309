"""``GET /api/escrows``: the caller's escrows, newest first, a page at a time (issue: read models,
"my escrows"; seeds 003 §8.2-8.4). Served from the view table's party index, so a page costs
O(page); ``gateway.listing`` reads the query and writes the page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import listing
from gateway.ports import authenticator, views
from gateway.problems import Problem
from gateway.views import party_in, render
from state_stores.view_indexes import Role


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
    query, table = request.query_params, views(request)
    page = table.escrows_of(
        principal.user_id,
        _roles(query.get("role")),
        listing.status(query),
        listing.after(query),
        listing.limit(query),
    )
    return listing.answer(page, table, "escrows", lambda v: render(v, party_in(v, principal)))


def _roles(role: str | None) -> list[Role]:
    if role is None:
        return list(Role)
    if role not in set(Role):
        raise Problem(400, "invalid-role", "role must be buyer or seller")
    return [Role(role)]


routes = [Route("/api/escrows", list_escrows, methods=["GET"])]
