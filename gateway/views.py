"""Escrow views as JSON for clients, and who may see or act on them (``kernel.permissions``: the
same ``party_of`` and permission table the escrow topology decides with)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from google.protobuf.json_format import MessageToDict

from gateway.auth import Principal
from gateway.problems import Problem
from kernel.permissions import Party, party_of
from schemas.escrow.v1.views_pb2 import EscrowView


def party_in(view: EscrowView, principal: Principal) -> Party:
    """What ``principal`` is to the escrow ``view`` shows."""
    return party_of(principal.actor, view.buyer_id, view.seller_id)


def require_party(view: EscrowView, principal: Principal, allowed: Collection[Party]) -> Party:
    """:raises Problem: 403 unless the principal is one of ``allowed`` for this escrow."""
    party = party_in(view, principal)
    if party not in allowed:
        raise Problem(
            403,
            "forbidden",
            "Not allowed for this escrow",
            f"allowed: {', '.join(sorted(allowed))}",
        )
    return party


def render(view: EscrowView, party: Party) -> dict[str, Any]:
    """The view as JSON; how to pay (client secret, deposit address) is the buyer's alone."""
    body = MessageToDict(view, preserving_proto_field_name=True)
    body["status"] = body.get("status", "").removeprefix("ESCROW_STATUS_")
    body["rail"] = body.get("rail", "").removeprefix("RAIL_")
    body["version"] = view.version
    if "amount" in body:
        body["amount"]["amount_cents"] = view.amount.amount_cents
    for shown, entry in zip(body.get("returns", []), view.returns, strict=True):
        shown["status"] = shown.get("status", "").removeprefix("RETURN_STATUS_")
        shown.setdefault("amount", {})["amount_cents"] = entry.amount.amount_cents
    if party is not Party.BUYER:
        for secret in ("client_secret", "deposit_address"):
            body.get("payment", {}).pop(secret, None)
    if party is not Party.ADMIN:  # screening scores are compliance data
        body.get("review", {}).pop("risk_score", None)
    if "review" in body:
        body["review"]["status"] = body["review"].get("status", "").removeprefix("REVIEW_STATUS_")
        if "amount" in body["review"]:
            body["review"]["amount"]["amount_cents"] = view.review.amount.amount_cents
    body.pop("commands", None)
    return body


def etag(view: EscrowView) -> str:
    return f'"{view.version}"'
