"""A command's outcome (GET /api/commands/{id}): PENDING until the view records it APPLIED or
REJECTED; its issuer or an admin may see it; ``Prefer: wait=N`` holds the answer for it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.auth import Authenticator
from gateway.settings import GatewaySettings
from kernel.permissions import Party
from schemas.escrow.v1.views_pb2 import EscrowView
from tests.fakes import FakeLedger, FakePublisher, FakeViews
from tests.unit.gateway.support import (
    BUYER,
    ESCROW_ID,
    JWT_KEY,
    SELLER,
    as_party,
    assert_problem,
    bearer,
    escrow_view,
    outcome,
)

COMMAND_ID = f"{ESCROW_ID}~0123456789abcdef"
COMMAND_PATH = f"/api/commands/{COMMAND_ID}"


class ProjectedLater(FakeViews):
    """Stores ``later`` once the gateway has looked twice (and found the earlier views)."""

    def __init__(self, *views: EscrowView, later: EscrowView) -> None:
        super().__init__(*views)
        self.later, self.looks = later, 0

    def get(self, escrow_id: str) -> EscrowView | None:
        self.looks += 1
        if self.looks == 3:
            self.put(self.later)
        return super().get(escrow_id)


@pytest.fixture
def applied(views: FakeViews) -> None:
    """The seller's command COMMAND_ID was applied."""
    views.put(escrow_view(commands=[outcome(COMMAND_ID, "APPLIED", issuer=SELLER)]))


class TestOutcomes:
    @pytest.mark.parametrize("party", [Party.BUYER, Party.SELLER, Party.ADMIN])
    def test_a_command_without_an_outcome_is_pending(
        self, client: TestClient, party: Party
    ) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(party))

        assert answer.status_code == 200
        assert answer.json() == {
            "command_id": COMMAND_ID,
            "escrow_id": ESCROW_ID,
            "status": "PENDING",
        }
        assert "preference-applied" not in answer.headers

    @pytest.mark.usefixtures("applied")
    def test_an_applied_command_shows_applied(self, client: TestClient) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(Party.SELLER))

        assert answer.json() == {
            "command_id": COMMAND_ID,
            "escrow_id": ESCROW_ID,
            "status": "APPLIED",
        }

    def test_a_rejected_command_shows_the_reason_and_detail(
        self, client: TestClient, views: FakeViews
    ) -> None:
        rejected = outcome(
            COMMAND_ID, "REJECTED", issuer=BUYER, reason="VERSION_MISMATCH", detail="at 6, not 5"
        )
        views.put(escrow_view(commands=[rejected]))

        answer = client.get(COMMAND_PATH, headers=as_party(Party.BUYER))

        assert answer.json() == {
            "command_id": COMMAND_ID,
            "escrow_id": ESCROW_ID,
            "status": "REJECTED",
            "reason": "VERSION_MISMATCH",
            "detail": "at 6, not 5",
        }

    def test_the_outcome_is_found_among_the_escrows_recent_commands(
        self, client: TestClient, views: FakeViews
    ) -> None:
        others = [outcome(f"{ESCROW_ID}~{n}", "REJECTED", issuer=SELLER) for n in range(3)]
        views.put(escrow_view(commands=[*others, outcome(COMMAND_ID, "APPLIED", issuer=SELLER)]))

        answer = client.get(COMMAND_PATH, headers=as_party(Party.SELLER))

        assert answer.json()["status"] == "APPLIED"

    def test_an_unknown_escrow_is_a_404_problem(self, client: TestClient) -> None:
        answer = client.get("/api/commands/esc-unknown~0123", headers=as_party(Party.ADMIN))

        assert_problem(answer, 404, "not-found")


class TestWhoSeesAnOutcome:
    @pytest.mark.usefixtures("applied")
    @pytest.mark.parametrize("party", [Party.BUYER, Party.STRANGER])
    def test_only_the_issuer_sees_a_decided_command(self, client: TestClient, party: Party) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(party))

        assert_problem(answer, 403, "forbidden")

    @pytest.mark.usefixtures("applied")
    def test_an_admin_sees_any_command(self, client: TestClient) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(Party.ADMIN))

        assert answer.status_code == 200
        assert answer.json()["status"] == "APPLIED"

    @pytest.mark.usefixtures("applied")
    def test_an_admin_who_is_the_buyer_sees_the_sellers_command_as_an_admin(
        self, client: TestClient
    ) -> None:
        answer = client.get(COMMAND_PATH, headers=bearer(BUYER, "admin"))

        assert answer.status_code == 200

    def test_a_stranger_does_not_see_even_a_pending_command(self, client: TestClient) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(Party.STRANGER))

        assert_problem(answer, 403, "forbidden")

    def test_the_location_of_an_accepted_command_answers_its_issuer(
        self, client: TestClient
    ) -> None:
        accepted = client.post(f"/api/escrow/{ESCROW_ID}/release", headers=as_party(Party.BUYER))

        answer = client.get(accepted.headers["location"], headers=as_party(Party.BUYER))

        assert answer.json()["status"] == "PENDING"
        assert answer.json()["command_id"] == accepted.json()["command_id"]


class TestPreferWait:
    @pytest.mark.usefixtures("applied")
    def test_a_decided_command_answers_at_once_with_preference_applied(
        self, client: TestClient
    ) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(Party.SELLER) | {"Prefer": "wait=1"})

        assert answer.json()["status"] == "APPLIED"
        assert answer.headers["preference-applied"] == "wait=1"

    def test_the_answer_waits_for_the_outcome(
        self, settings: GatewaySettings, publisher: FakePublisher
    ) -> None:
        decided = escrow_view(commands=[outcome(COMMAND_ID, "APPLIED", issuer=SELLER)])
        views = ProjectedLater(escrow_view(), later=decided)
        app = create_app(settings, publisher, views, Authenticator(JWT_KEY), FakeLedger())

        with TestClient(app) as client:
            answer = client.get(COMMAND_PATH, headers=as_party(Party.SELLER) | {"Prefer": "wait=5"})

        assert answer.json()["status"] == "APPLIED"
        assert answer.headers["preference-applied"] == "wait=5"
        assert views.looks == 3

    def test_without_an_outcome_the_wait_ends_pending(self, client: TestClient) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(Party.SELLER) | {"Prefer": "wait=1"})

        assert answer.json()["status"] == "PENDING"
        assert answer.headers["preference-applied"] == "wait=1"

    @pytest.mark.usefixtures("applied")
    def test_a_wait_is_at_most_30_seconds(self, client: TestClient) -> None:
        answer = client.get(COMMAND_PATH, headers=as_party(Party.SELLER) | {"Prefer": "wait=600"})

        assert answer.headers["preference-applied"] == "wait=30"
