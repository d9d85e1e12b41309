"""Admin endpoints (DESIGN.md §7): the manual-review queue of USDC deposits whose wallet scored
50-80 (seeds: "Risk Thresholds") and the decisions on them, retrying a failed payout, and the
ledger. Admin only; the decisions are commands the escrow topology checks again
(kernel.permissions)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from google.protobuf.json_format import MessageToDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import listing
from gateway.ports import authenticator, ledger, views
from gateway.problems import Problem
from gateway.responses import JSONResponse
from gateway.routes.escrow import command_endpoint
from gateway.views import plain
from kernel.messages import ApproveReview, RejectReview, RetryPayout
from schemas.common.v1.types_pb2 import Rail
from schemas.escrow.v1.views_pb2 import EscrowView
from state_stores.ledger_table import held_cents


async def list_reviews(request: Request) -> Response:
    """
    summary: Deposits waiting for review, the longest waiting first (admin only; limit <= 100)
    responses:
      200: {description: the queue}
      400: {description: a bad limit}
      403: {description: not an admin}
    """
    require_admin(request)
    limit = listing.limit(request.query_params, default=50)
    return JSONResponse({"reviews": [_review(v) for v in views(request).pending_reviews(limit)]})


def _review(view: EscrowView) -> dict[str, Any]:
    review = view.review
    return {
        "escrow_id": view.escrow_id,
        "rail": Rail.Name(view.rail).removeprefix("RAIL_"),
        "provider_payment_id": review.provider_payment_id,
        "amount": {"amount_cents": review.amount.amount_cents, "currency": review.amount.currency},
        "risk_score": review.risk_score,
        "payer_wallet_address": review.payer_wallet_address,
        "held_at": review.held_at.ToJsonString(),
    }


approve = command_endpoint(ApproveReview, lambda meta, b: ApproveReview(meta, b.get("note", "")))
approve.__doc__ = """
summary: An admin approves a deposit held for review; the escrow is funded
responses: {202: {description: queued; Location names the command}}
"""
reject = command_endpoint(RejectReview, lambda meta, b: RejectReview(meta, b.get("note", "")))
reject.__doc__ = """
summary: An admin rejects a deposit held for review; it goes back to its sender
responses: {202: {description: queued; Location names the command}}
"""

retry_payout = command_endpoint(RetryPayout, lambda meta, b: RetryPayout(meta))
retry_payout.__doc__ = """
summary: An admin asks again for the payout (transfer or refund) that failed last
responses: {202: {description: queued; Location names the command}}
"""


async def ledger_balances(request: Request) -> Response:
    """
    summary: The ledger's balances per account, rail and currency, in cents (admin only)
    responses: {200: {description: the balances}, 403: {description: not an admin}}
    """
    require_admin(request)
    balances = [asdict(b) for b in ledger(request).balances()]
    held = held_cents(ledger(request).balances())
    return JSONResponse({"balances": balances, "held_cents": held})


async def ledger_of_escrow(request: Request) -> Response:
    """
    summary: An escrow's ledger postings, by transaction (admin only)
    responses: {200: {description: the postings}, 403: {description: not an admin}}
    """
    require_admin(request)
    lines = ledger(request).postings(request.path_params["escrow_id"])
    postings = [plain(MessageToDict(line, preserving_proto_field_name=True)) for line in lines]
    return JSONResponse({"escrow_id": request.path_params["escrow_id"], "postings": postings})


def require_admin(request: Request) -> None:
    """:raises Problem: 401 without a valid token, 403 for anyone but an admin."""
    if not authenticator(request).principal(request).is_admin:
        raise Problem(403, "forbidden", "Only an admin may see this")


routes = [
    Route("/api/admin/reviews", list_reviews, methods=["GET"]),
    Route("/api/admin/reviews/{escrow_id}/approve", approve, methods=["POST"]),
    Route("/api/admin/reviews/{escrow_id}/reject", reject, methods=["POST"]),
    Route("/api/admin/escrow/{escrow_id}/retry-payout", retry_payout, methods=["POST"]),
    Route("/api/admin/ledger/balances", ledger_balances, methods=["GET"]),
    Route("/api/admin/ledger/escrow/{escrow_id}", ledger_of_escrow, methods=["GET"]),
]
