"""What production refuses and what every deployment limits: built-in secrets, tokens from
another issuer, oversized bodies, webhooks that are not JSON."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from pydantic import SecretStr, ValidationError
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.auth import Authenticator
from gateway.problems import Problem
from gateway.settings import GatewaySettings
from kernel.model import Role
from kernel.permissions import Party
from tests.fakes import FakeLedger, FakePublisher, FakeViews
from tests.unit.gateway.support import (
    ESCROW_ID,
    JWT_KEY,
    as_party,
    assert_problem,
    escrow_view,
)
from topologies.settings import RailSettings

REAL = SecretStr("a-real-secret-from-the-vault-0123456789abcdef")


class TestProductionRefusesBuiltInSecrets:
    def test_the_gateway_names_every_secret_still_at_its_default(self) -> None:
        with pytest.raises(ValidationError) as refused:
            GatewaySettings(escrow_env="production", stripe_webhook_secret=REAL)

        message = str(refused.value)
        assert "CUSTODIAN_WEBHOOK_SECRET, JWT_HS256_KEY" in message
        assert "STRIPE_WEBHOOK_SECRET" not in message

    def test_with_a_jwks_url_the_gateway_needs_no_hs256_key(self) -> None:
        settings = GatewaySettings(
            escrow_env="production",
            stripe_webhook_secret=REAL,
            custodian_webhook_secret=REAL,
            jwt_jwks_url="https://auth.example.com/.well-known/jwks.json",
        )

        assert settings.escrow_env == "production"

    def test_the_payment_rails_need_their_provider_keys(self) -> None:
        with pytest.raises(ValidationError, match="CUSTODIAN_API_KEY, STRIPE_API_KEY"):
            RailSettings(escrow_env="production")

    def test_development_runs_on_the_built_in_secrets(self) -> None:
        assert RailSettings().escrow_env == "development"


class TestIssuer:
    def token(self, issuer: str | None) -> str:
        claims = {"sub": "u-1", "exp": 4_102_444_800} | ({"iss": issuer} if issuer else {})
        return jwt.encode(claims, JWT_KEY, algorithm="HS256")

    def test_a_configured_issuer_is_required(self) -> None:
        auth = Authenticator(JWT_KEY, issuer="https://auth.example.com")

        assert auth.verify(self.token("https://auth.example.com")).role is Role.USER
        for wrong in ("https://evil.example.com", None):
            with pytest.raises(Problem) as refused:
                auth.verify(self.token(wrong))
            assert refused.value.status == 401


@pytest.fixture
def small(settings: GatewaySettings) -> Iterator[TestClient]:
    """The gateway with a 100-byte body limit."""
    limited = settings.model_copy(update={"max_body_bytes": 100})
    app = create_app(
        limited, FakePublisher(), FakeViews(escrow_view()), Authenticator(JWT_KEY), FakeLedger()
    )
    with TestClient(app) as client:
        yield client


class TestBodyLimit:
    path = f"/api/escrow/{ESCROW_ID}/cancel"

    def test_a_declared_length_over_the_limit_is_a_413(self, small: TestClient) -> None:
        body = b'{"reason": "' + b"x" * 200 + b'"}'

        answer = small.post(self.path, content=body, headers=as_party(Party.SELLER))

        assert_problem(answer, 413, "body-too-large")

    def test_a_chunked_body_is_cut_off_at_the_limit(self, small: TestClient) -> None:
        chunks = iter([b'{"reason": "', b"x" * 80, b"x" * 80, b'"}'])

        answer = small.post(self.path, content=chunks, headers=as_party(Party.SELLER))

        assert_problem(answer, 413, "body-too-large")

    def test_a_body_within_the_limit_is_read(self, small: TestClient) -> None:
        answer = small.post(self.path, json={"reason": "sold out"}, headers=as_party(Party.SELLER))

        assert answer.status_code == 202


@pytest.mark.parametrize("path", ["/api/webhooks/stripe", "/api/webhooks/custodian"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_webhook_that_is_not_json_is_a_415(
    client: TestClient, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    answer = client.post(path, content=b"{}", headers=headers)

    assert_problem(answer, 415, "unsupported-media-type")


class TestMutationLimits:
    path = f"/api/escrow/{ESCROW_ID}/cancel"

    @pytest.fixture
    def limited(self, settings: GatewaySettings) -> Iterator[TestClient]:
        """The gateway allowing 2 mutations per user and 3 per address a minute."""
        strict = settings.model_copy(
            update={"mutations_per_user": "2/minute", "mutations_per_ip": "3/minute"}
        )
        app = create_app(
            strict, FakePublisher(), FakeViews(escrow_view()), Authenticator(JWT_KEY), FakeLedger()
        )
        with TestClient(app) as client:
            yield client

    def cancel(self, client: TestClient, party: Party) -> int:
        answer = client.post(self.path, json={"reason": "r"}, headers=as_party(party))
        return int(answer.status_code)

    def test_a_user_over_the_limit_gets_a_429_with_retry_after(self, limited: TestClient) -> None:
        assert [self.cancel(limited, Party.SELLER) for _ in range(2)] == [202, 202]

        answer = limited.post(self.path, json={"reason": "r"}, headers=as_party(Party.SELLER))

        problem = assert_problem(answer, 429, "rate-limited")
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
        assert problem["detail"] == "at most 2 per 1 minute per user"

    def test_the_address_is_limited_across_users(self, limited: TestClient) -> None:
        statuses = [self.cancel(limited, p) for p in (Party.SELLER, Party.BUYER, Party.ADMIN)]

        assert statuses == [202, 202, 202]
        assert self.cancel(limited, Party.BUYER) == 429

    def test_reads_are_not_limited(self, limited: TestClient) -> None:
        for _ in range(5):
            answer = limited.get(f"/api/escrow/{ESCROW_ID}", headers=as_party(Party.BUYER))
            assert answer.status_code == 200
