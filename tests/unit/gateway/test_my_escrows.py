"""GET /api/escrows: the caller's escrows, newest first, by role and status, a page at a time,
with no gaps or repeats while the views change between pages."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.listing import STATUSES
from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView
from tests.fakes import FakeViews
from tests.unit.gateway import support
from tests.unit.gateway.support import (
    BUYER,
    CLIENT_SECRET,
    ESCROW_ID,
    SELLER,
    STRANGER,
    assert_problem,
    bearer,
    escrow_view,
)

PATH = "/api/escrows"


def view(
    index: int, status: str = "FUNDS_HELD", buyer: str = BUYER, seller: str = SELLER
) -> EscrowView:
    """Escrow ``esc-<index>``, created ``index`` seconds after the first."""
    made = escrow_view(f"esc-{index:03d}", status=status, buyer_id=buyer, seller_id=seller)
    made.created_at.FromSeconds(1_790_000_000 + index)
    return made


def pages(client: TestClient, user: str, **query: Any) -> list[list[str]]:
    return support.pages(client, PATH, bearer(user), **query)


@pytest.fixture
def many(views: FakeViews) -> list[str]:
    """46 escrows of BUYER's, newest first: 45 made here (as buyer; every third as seller, with
    SELLER buying) and the fixture's oldest ESCROW_ID; and 5 between others."""
    for index in range(45):
        parties = {"buyer": SELLER, "seller": BUYER} if index % 3 == 0 else {}
        views.put(view(index, **parties))
    for index in range(45, 50):
        views.put(view(index, buyer="someone", seller="else"))
    return [f"esc-{i:03d}" for i in reversed(range(45))] + [ESCROW_ID]


def test_pages_hold_every_escrow_of_the_caller_once_newest_first(
    client: TestClient, many: list[str]
) -> None:
    found = pages(client, BUYER, limit=10)

    assert [len(p) for p in found] == [10, 10, 10, 10, 6]
    assert [e for page in found for e in page] == many


def test_changes_between_pages_leave_no_gap_and_no_repeat(
    client: TestClient, views: FakeViews, many: list[str]
) -> None:
    first = client.get(PATH, params={"limit": 10}, headers=bearer(BUYER)).json()
    views.put(view(100))  # a newer escrow, and an older one changing status
    views.put(view(3, status="RELEASED", buyer=SELLER, seller=BUYER))
    cursor, rest = first["next_cursor"], []
    while cursor:
        answer = client.get(PATH, params={"limit": 10, "cursor": cursor}, headers=bearer(BUYER))
        rest += [e["escrow_id"] for e in answer.json()["escrows"]]
        cursor = answer.json()["next_cursor"]

    assert [e["escrow_id"] for e in first["escrows"]] + rest == many


def test_role_and_status_filter(client: TestClient, views: FakeViews, many: list[str]) -> None:
    views.put(view(46, status="DISPUTED"))

    as_seller = [e for p in pages(client, BUYER, role="seller", limit=100) for e in p]
    disputed = [e for p in pages(client, BUYER, status="DISPUTED") for e in p]

    assert as_seller == [e for e in many[:-1] if int(e[4:]) % 3 == 0]
    assert disputed == ["esc-046"]


def test_each_escrow_is_shown_as_its_party_sees_it(client: TestClient, many: list[str]) -> None:
    escrows = client.get(PATH, params={"limit": 3}, headers=bearer(BUYER)).json()["escrows"]

    secrets = [e["payment"].get("client_secret") for e in escrows]
    assert secrets == [CLIENT_SECRET, CLIENT_SECRET, None]  # esc-042: BUYER sells it


def test_a_stranger_has_none(client: TestClient, many: list[str]) -> None:
    assert pages(client, STRANGER) == [[]]


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ({"role": "admin"}, "invalid-role"),
        ({"status": "PAID"}, "invalid-status"),
        ({"limit": "0"}, "invalid-limit"),
        ({"limit": "101"}, "invalid-limit"),
        ({"cursor": "not-a-cursor"}, "invalid-cursor"),
        ({"cursor": "Zm9v"}, "invalid-cursor"),
    ],
)
def test_bad_queries_are_400_problems(client: TestClient, query: dict[str, str], kind: str) -> None:
    assert_problem(client.get(PATH, params=query, headers=bearer(BUYER)), 400, kind)


def test_without_a_token_it_is_a_401(client: TestClient) -> None:
    assert_problem(client.get(PATH), 401, "unauthenticated")


def test_statuses_are_the_escrow_states() -> None:
    assert "AWAIT_FUNDS" in STATUSES and len(STATUSES) == len(EscrowStatus.keys()) - 1
