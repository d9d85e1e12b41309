"""Test data for the gateway's unit tests: the parties of one trade, ``EscrowView`` protobufs as
the projections topology would store them, and bearer tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from starlette.testclient import TestClient

from gateway.auth import issue_token
from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    EscrowCommand,
    MarkDelivered,
    RaiseDispute,
    RejectReview,
    ReleaseFunds,
    ResolveDispute,
    RetryPayout,
)
from kernel.permissions import Party
from schemas.common.v1.types_pb2 import Rail
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import CommandOutcome, CommandStatus, EscrowView

JWT_KEY = "gateway-unit-tests-jwt-key-0123456789abcdef"
OTHER_JWT_KEY = "somebody-elses-jwt-key-0123456789abcdef"
STRIPE_SECRET = "whsec_gateway_unit_tests"
CUSTODIAN_SECRET = "custodian_gateway_unit_tests"

ESCROW_ID = "esc-1"
CONTRACT_ID = "contract-of-esc-1"
BUYER = "buyer-1"
SELLER = "seller-1"
ADMIN = "admin-1"
STRANGER = "stranger-1"
VERSION = 5
CLIENT_SECRET = "pi_test_1_secret_abc"
DEPOSIT_ADDRESS = "0xdeposit"

# Who sends a token as each party of ESCROW_ID: (user id, role claim). The system party has no
# token (a "system" role claim is an ordinary user).
PRINCIPALS: dict[Party, tuple[str, str]] = {
    Party.BUYER: (BUYER, "user"),
    Party.SELLER: (SELLER, "user"),
    Party.ADMIN: (ADMIN, "admin"),
    Party.STRANGER: (STRANGER, "user"),
}

# Each mutation route: the command it sends and a valid body for it.
MUTATIONS: dict[type[EscrowCommand], tuple[str, dict[str, Any]]] = {
    MarkDelivered: ("/api/escrow/{}/mark-delivered", {"note": "shipped the keys"}),
    ReleaseFunds: ("/api/escrow/{}/release", {}),
    RaiseDispute: ("/api/escrow/{}/dispute", {"reason": "not as described"}),
    CancelEscrow: ("/api/escrow/{}/cancel", {"reason": "changed my mind"}),
    ResolveDispute: ("/api/disputes/{}/resolve", {"resolution": "FAVOR_BUYER", "note": "ok"}),
    ApproveReview: ("/api/admin/reviews/{}/approve", {"note": "wallet history checked"}),
    RejectReview: ("/api/admin/reviews/{}/reject", {"note": "mixer exposure"}),
    RetryPayout: ("/api/admin/escrow/{}/retry-payout", {}),
}


def mutation_path(command: type[EscrowCommand], escrow_id: str = ESCROW_ID) -> str:
    return MUTATIONS[command][0].format(escrow_id)


def escrow_view(
    escrow_id: str = ESCROW_ID,
    *,
    status: str = "FUNDS_HELD",
    buyer_id: str = BUYER,
    seller_id: str = SELLER,
    version: int = VERSION,
    client_secret: str = CLIENT_SECRET,
    deposit_address: str = "",
    commands: Iterable[CommandOutcome] = (),
) -> EscrowView:
    """A Stripe-rail escrow of $5,000.00 in ``status`` (an ``EscrowStatus`` name without its
    prefix), with the payment initialized."""
    view = EscrowView(
        escrow_id=escrow_id,
        contract_id=f"contract-of-{escrow_id}",
        status=EscrowStatus.Value(f"ESCROW_STATUS_{status}"),
        rail=Rail.RAIL_STRIPE,
        buyer_id=buyer_id,
        seller_id=seller_id,
        version=version,
    )
    view.amount.amount_cents, view.amount.currency = 500_000, "USD"
    view.payment.provider_payment_id = f"pi_of_{escrow_id}"
    view.payment.client_secret = client_secret
    view.payment.deposit_address = deposit_address
    view.commands.extend(commands)
    return view


def outcome(
    command_id: str,
    status: str = "APPLIED",
    issuer: str = SELLER,
    reason: str = "",
    detail: str = "",
) -> CommandOutcome:
    """A command's outcome as the view records it; ``status`` is APPLIED or REJECTED."""
    return CommandOutcome(
        command_id=command_id,
        status=CommandStatus.Value(f"COMMAND_STATUS_{status}"),
        reason=reason,
        detail=detail,
        issuer_user_id=issuer,
    )


def bearer(
    user_id: str, role: str = "user", key: str = JWT_KEY, ttl_s: int = 3600
) -> dict[str, str]:
    """The Authorization header of ``user_id``'s token."""
    return {"Authorization": f"Bearer {issue_token(key, user_id, role, ttl_s)}"}


def as_party(party: Party) -> dict[str, str]:
    """The Authorization header of whoever is ``party`` to ESCROW_ID."""
    return bearer(*PRINCIPALS[party])


def assert_problem(answer: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """``answer`` is an RFC 9457 problem of ``status`` and type ``/problems/<kind>`` about the
    requested path; returns its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == f"/problems/{kind}"
    assert problem["status"] == status
    assert problem["instance"] == answer.request.url.path
    assert isinstance(problem["title"], str) and problem["title"]
    return problem


def pages(client: TestClient, path: str, headers: dict[str, str], **query: Any) -> list[list[str]]:
    """The escrow ids of every page of the list at ``path``, following ``next_cursor`` to the
    end."""
    found, cursor = [], None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found.append([e["escrow_id"] for e in body["escrows"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return found
