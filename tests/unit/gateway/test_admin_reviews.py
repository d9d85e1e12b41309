"""The manual-review queue and decisions (issue: money to settlement, item 3), admin only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from kernel import mapping
from kernel.messages import ApproveReview, RejectReview
from kernel.permissions import Party
from schemas.escrow.v1.views_pb2 import EscrowView, ReviewStatus
from tests.fakes import FakePublisher, FakeViews
from tests.unit.gateway.support import as_party, assert_problem, escrow_view

REVIEWS = "/api/admin/reviews"


def under_review(escrow_id: str, held_at: datetime, risk_score: int = 65) -> EscrowView:
    view = escrow_view(escrow_id, status="AWAIT_FUNDS")
    review = view.review
    review.status = ReviewStatus.REVIEW_STATUS_PENDING
    review.provider_payment_id = f"dep_of_{escrow_id}"
    review.amount.amount_cents, review.amount.currency = 2_500_000, "USD"
    review.risk_score, review.payer_wallet_address = risk_score, "0xpayer"
    review.held_at.FromDatetime(held_at)
    return view


class TestTheQueue:
    def test_lists_pending_reviews_the_longest_waiting_first(
        self, client: TestClient, views: FakeViews
    ) -> None:
        views.put(under_review("esc-new", datetime(2026, 11, 22, 10, tzinfo=UTC)))
        views.put(under_review("esc-old", datetime(2026, 11, 21, 10, tzinfo=UTC), risk_score=72))

        answer = client.get(REVIEWS, headers=as_party(Party.ADMIN))

        assert answer.status_code == 200
        reviews = answer.json()["reviews"]
        assert [r["escrow_id"] for r in reviews if r["escrow_id"] != "esc-1"] == [
            "esc-old",
            "esc-new",
        ]
        oldest = reviews[0]
        assert oldest["risk_score"] == 72
        assert oldest["amount"] == {"amount_cents": 2_500_000, "currency": "USD"}
        assert oldest["provider_payment_id"] == "dep_of_esc-old"
        assert oldest["held_at"] == "2026-11-21T10:00:00Z"

    def test_a_page_holds_at_most_limit_reviews(self, client: TestClient, views: FakeViews) -> None:
        for day in (20, 21, 22):
            views.put(under_review(f"esc-{day}", datetime(2026, 11, day, tzinfo=UTC)))

        answer = client.get(f"{REVIEWS}?limit=2", headers=as_party(Party.ADMIN))

        assert [r["escrow_id"] for r in answer.json()["reviews"]] == ["esc-20", "esc-21"]

    @pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
    def test_a_bad_limit_is_a_400_problem(self, client: TestClient, limit: str) -> None:
        answer = client.get(f"{REVIEWS}?limit={limit}", headers=as_party(Party.ADMIN))

        assert_problem(answer, 400, "invalid-limit")

    @pytest.mark.parametrize("party", [Party.BUYER, Party.SELLER, Party.STRANGER])
    def test_only_an_admin_sees_the_queue(self, client: TestClient, party: Party) -> None:
        assert_problem(client.get(REVIEWS, headers=as_party(party)), 403, "forbidden")


class TestDecisions:
    @pytest.mark.parametrize(
        ("path", "kind"), [("approve", ApproveReview), ("reject", RejectReview)]
    )
    def test_an_admin_decides_with_a_command_naming_them(
        self,
        client: TestClient,
        publisher: FakePublisher,
        path: str,
        kind: type[ApproveReview | RejectReview],
    ) -> None:
        answer = client.post(
            f"{REVIEWS}/esc-1/{path}", json={"note": "checked"}, headers=as_party(Party.ADMIN)
        )

        assert answer.status_code == 202
        [(_, key, envelope)] = publisher.sent
        command = mapping.COMMANDS.to_domain(envelope)
        assert key == "esc-1" and isinstance(command, kind)
        assert command.meta.actor.user_id == "admin-1" and command.note == "checked"


class TestTheEscrowView:
    def test_the_buyer_sees_the_deposit_under_review_without_its_risk_score(
        self, client: TestClient, views: FakeViews
    ) -> None:
        views.put(under_review("esc-1", datetime(2026, 11, 21, tzinfo=UTC)))

        review = client.get("/api/escrow/esc-1", headers=as_party(Party.BUYER)).json()["review"]

        assert review["status"] == "PENDING" and "risk_score" not in review
        assert review["amount"]["amount_cents"] == 2_500_000

    def test_an_admin_sees_the_risk_score(self, client: TestClient, views: FakeViews) -> None:
        views.put(under_review("esc-1", datetime(2026, 11, 21, tzinfo=UTC)))

        review = client.get("/api/escrow/esc-1", headers=as_party(Party.ADMIN)).json()["review"]

        assert review["risk_score"] == 65
