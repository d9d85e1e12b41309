"""Reading escrows: who may, what they see (GET /api/escrow/{id}, /api/contracts/{id}/escrow),
and the 401s every authenticated route shares."""

from __future__ import annotations

import jwt
import pytest
from starlette.testclient import TestClient

from kernel.permissions import Party
from tests.fakes import FakeViews
from tests.unit.gateway.support import (
    ADMIN,
    BUYER,
    CLIENT_SECRET,
    CONTRACT_ID,
    DEPOSIT_ADDRESS,
    ESCROW_ID,
    JWT_KEY,
    OTHER_JWT_KEY,
    SELLER,
    VERSION,
    as_party,
    assert_problem,
    bearer,
    escrow_view,
    outcome,
)

ESCROW_PATH = f"/api/escrow/{ESCROW_ID}"
CONTRACT_PATH = f"/api/contracts/{CONTRACT_ID}/escrow"


class TestAuthentication:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Basic YnV5ZXItMTpzZWNyZXQ="},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer not-a-jwt"},
            bearer(BUYER, ttl_s=-60),
            bearer(BUYER, key=OTHER_JWT_KEY),
            {"Authorization": f"Bearer {jwt.encode({'role': 'user'}, JWT_KEY)}"},
            {"Authorization": f"Bearer {jwt.encode({'sub': BUYER}, JWT_KEY)}"},
        ],
        ids=[
            "missing",
            "not-bearer",
            "empty",
            "malformed",
            "expired",
            "forged",
            "no-subject",
            "never-expires",
        ],
    )
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", ESCROW_PATH),
            ("GET", CONTRACT_PATH),
            ("POST", f"{ESCROW_PATH}/release"),
            ("GET", f"/api/commands/{ESCROW_ID}~abc"),
        ],
    )
    def test_a_request_without_a_valid_token_gets_a_401_problem(
        self, client: TestClient, headers: dict[str, str], method: str, path: str
    ) -> None:
        answer = client.request(method, path, headers=headers)

        assert_problem(answer, 401, "unauthenticated")
        assert answer.headers["www-authenticate"] == "Bearer"

    def test_a_forged_token_is_refused_with_the_reason(self, client: TestClient) -> None:
        answer = client.get(ESCROW_PATH, headers=bearer(BUYER, key=OTHER_JWT_KEY))

        assert answer.json()["detail"] == "Signature verification failed"


class TestReadingAnEscrow:
    @pytest.mark.parametrize("party", [Party.BUYER, Party.SELLER, Party.ADMIN])
    def test_the_parties_and_an_admin_read_an_escrow(
        self, client: TestClient, party: Party
    ) -> None:
        answer = client.get(ESCROW_PATH, headers=as_party(party))

        assert answer.status_code == 200
        assert answer.json()["escrow_id"] == ESCROW_ID

    def test_a_stranger_cannot_read_an_escrow(self, client: TestClient) -> None:
        answer = client.get(ESCROW_PATH, headers=as_party(Party.STRANGER))

        assert_problem(answer, 403, "forbidden")

    def test_an_unknown_escrow_is_a_404_problem(self, client: TestClient) -> None:
        answer = client.get("/api/escrow/esc-unknown", headers=as_party(Party.ADMIN))

        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json() == {
            "type": "/problems/not-found",
            "title": "No such escrow",
            "status": 404,
            "instance": "/api/escrow/esc-unknown",
        }

    def test_the_etag_is_the_quoted_version(self, client: TestClient) -> None:
        answer = client.get(ESCROW_PATH, headers=as_party(Party.BUYER))

        assert answer.headers["etag"] == f'"{VERSION}"'

    def test_enums_lose_their_prefixes_and_numbers_stay_numbers(self, client: TestClient) -> None:
        shown = client.get(ESCROW_PATH, headers=as_party(Party.BUYER)).json()

        assert (shown["status"], shown["rail"]) == ("FUNDS_HELD", "STRIPE")
        assert shown["version"] == VERSION
        assert shown["amount"] == {"amount_cents": 500_000, "currency": "USD"}

    def test_the_command_outcomes_are_never_rendered(
        self, client: TestClient, views: FakeViews
    ) -> None:
        views.put(escrow_view(commands=[outcome(f"{ESCROW_ID}~1", issuer=SELLER)]))

        shown = client.get(ESCROW_PATH, headers=as_party(Party.SELLER)).json()

        assert "commands" not in shown


class TestHowToPay:
    """The client secret and the deposit address are the buyer's alone."""

    @pytest.fixture(autouse=True)
    def _both_secrets(self, views: FakeViews) -> None:
        views.put(escrow_view(client_secret=CLIENT_SECRET, deposit_address=DEPOSIT_ADDRESS))

    @pytest.mark.parametrize("path", [ESCROW_PATH, CONTRACT_PATH])
    def test_the_buyer_sees_how_to_pay(self, client: TestClient, path: str) -> None:
        payment = client.get(path, headers=as_party(Party.BUYER)).json()["payment"]

        assert payment["client_secret"] == CLIENT_SECRET
        assert payment["deposit_address"] == DEPOSIT_ADDRESS

    @pytest.mark.parametrize(
        ("party", "path"),
        [(Party.SELLER, ESCROW_PATH), (Party.SELLER, CONTRACT_PATH), (Party.ADMIN, ESCROW_PATH)],
    )
    def test_the_seller_and_an_admin_do_not_see_how_to_pay(
        self, client: TestClient, party: Party, path: str
    ) -> None:
        payment = client.get(path, headers=as_party(party)).json()["payment"]

        assert payment == {"provider_payment_id": f"pi_of_{ESCROW_ID}"}

    def test_an_admin_who_is_the_buyer_sees_it_as_the_buyer(self, client: TestClient) -> None:
        payment = client.get(ESCROW_PATH, headers=bearer(BUYER, "admin")).json()["payment"]

        assert payment["client_secret"] == CLIENT_SECRET


class TestTheEscrowOfAContract:
    @pytest.mark.parametrize("party", [Party.BUYER, Party.SELLER])
    def test_the_parties_read_the_escrow_of_their_contract(
        self, client: TestClient, party: Party
    ) -> None:
        answer = client.get(CONTRACT_PATH, headers=as_party(party))

        assert answer.status_code == 200
        assert answer.json()["escrow_id"] == ESCROW_ID
        assert answer.headers["etag"] == f'"{VERSION}"'

    @pytest.mark.parametrize("party", [Party.ADMIN, Party.STRANGER])
    def test_nobody_else_reads_it_not_even_an_admin(self, client: TestClient, party: Party) -> None:
        answer = client.get(CONTRACT_PATH, headers=as_party(party))

        assert_problem(answer, 403, "forbidden")

    def test_an_unknown_contract_is_a_404_problem(self, client: TestClient) -> None:
        answer = client.get("/api/contracts/contract-unknown/escrow", headers=bearer(ADMIN))

        assert_problem(answer, 404, "not-found")
