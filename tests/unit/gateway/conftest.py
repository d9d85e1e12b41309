from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.auth import Authenticator
from gateway.settings import GatewaySettings
from tests.fakes import FakeLedger, FakePublisher, FakeViews
from tests.unit.gateway.support import CUSTODIAN_SECRET, JWT_KEY, STRIPE_SECRET, escrow_view


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(
        kafka_bootstrap_servers="unused:9092",
        stripe_webhook_secret=SecretStr(STRIPE_SECRET),
        custodian_webhook_secret=SecretStr(CUSTODIAN_SECRET),
        jwt_hs256_key=SecretStr(JWT_KEY),
        jwt_jwks_url=None,
        jwt_audience=None,
    )


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def views() -> FakeViews:
    """The view table, holding ESCROW_ID (funds held, between BUYER and SELLER)."""
    return FakeViews(escrow_view())


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def app(
    settings: GatewaySettings, publisher: FakePublisher, views: FakeViews, ledger: FakeLedger
) -> Starlette:
    return create_app(settings, publisher, views, Authenticator(JWT_KEY), ledger)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """Entered, so the lifespan starts the view table (and stops it afterwards)."""
    with TestClient(app) as client:
        yield client
