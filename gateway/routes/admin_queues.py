"""The admins' queues (issue: read models, "admin queues"): escrows by status, the longest
unchanged first, and the payouts failing, from the view table's queue indexes (a page costs
O(page)). Named queues are these with a filter: disputes awaiting resolution =
``/api/admin/escrows?status=DISPUTED``; escrows stuck unfunded =
``?status=AWAIT_FUNDS&older_than=<time>``; deposits waiting for review = ``/api/admin/reviews``.
Admin only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import listing
from gateway.ports import views
from gateway.routes.admin import require_admin
from gateway.views import render
from kernel.permissions import Party
from state_stores.view_indexes import Queue


async def escrows_by_status(request: Request) -> Response:
    """
    summary: Escrows in ?status (required), the longest unchanged first; ?older_than (ISO 8601,
      unchanged since before it), ?limit (1-100, 20), ?cursor (admin only)
    responses:
      200: {description: escrows (as an admin sees them) and next_cursor (null on the last page)}
      400: {description: bad status, time, limit or cursor}
      403: {description: not an admin}
    """
    return _queue(request, Queue.STATUS, listing.status(request.query_params, required=True))


async def payouts_failing(request: Request) -> Response:
    """
    summary: Escrows whose last payout failed (a retry scheduled, or an admin's to ask for), the
      longest waiting first; ?older_than, ?limit, ?cursor (admin only)
    responses:
      200: {description: escrows (as an admin sees them) and next_cursor (null on the last page)}
      400: {description: bad time, limit or cursor}
      403: {description: not an admin}
    """
    return _queue(request, Queue.PAYOUTS_FAILING, "")


def _queue(request: Request, queue: Queue, status: str | None) -> Response:
    require_admin(request)
    query, table = request.query_params, views(request)
    page = table.queue(
        queue, status or "", listing.older_than(query), listing.after(query), listing.limit(query)
    )
    return listing.answer(page, table, "escrows", lambda view: render(view, Party.ADMIN))


routes = [
    Route("/api/admin/escrows", escrows_by_status, methods=["GET"]),
    Route("/api/admin/queues/payouts-failing", payouts_failing, methods=["GET"]),
]
