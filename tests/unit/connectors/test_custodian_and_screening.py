"""The custodian and screening clients against their local fakes (real HTTP servers)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.custodian import CustodianRail, sign, verify
from connectors.exceptions import PermanentError, TransientError
from connectors.retry import with_retries
from connectors.screening import ChainalysisClient, TrmClient, Verdict, WalletScreener
from tests.http_fakes import fake
from tests.provider_fakes.serve import BackgroundServer

NO_SLEEP = lambda seconds: None  # noqa: E731 - retries without waiting


@pytest.fixture
def custodian() -> Iterator[BackgroundServer]:
    with fake("custodian") as server:
        yield server


@pytest.fixture
def screening() -> Iterator[BackgroundServer]:
    with fake("screening") as server:
        yield server


@pytest.fixture
def rail(custodian: BackgroundServer) -> Iterator[CustodianRail]:
    client = CustodianRail(custodian.url, "key")
    yield client
    client.close()


@pytest.fixture
def screener(screening: BackgroundServer) -> Iterator[WalletScreener]:
    client = WalletScreener(TrmClient(screening.url, "k"), ChainalysisClient(screening.url, "k"))
    yield client
    client.close()


class TestCustodian:
    def test_a_deposit_address_is_created_once_per_idempotency_key(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        first = rail.create_payment(
            escrow_id="e", amount_cents=2_000_000, currency="USD", idempotency_key="k1"
        )
        again = rail.create_payment(
            escrow_id="e", amount_cents=2_000_000, currency="USD", idempotency_key="k1"
        )

        assert first == again and first.deposit_address.startswith("0x")
        assert len(httpx.get(f"{custodian.url}/_fake/objects").json()) == 1

    def test_transfer_and_return_send_the_documented_bodies(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        transfer_id = rail.transfer(
            escrow_id="e",
            amount_cents=5,
            currency="USD",
            provider_payment_id="dep_1",
            destination="0xabc",
            idempotency_key="k2",
        )
        return_id = rail.refund(
            escrow_id="e",
            amount_cents=5,
            currency="USD",
            provider_payment_id="dep_1",
            idempotency_key="k3",
        )

        calls = httpx.get(f"{custodian.url}/_fake/calls").json()
        assert [(c["path"], c["idempotency_key"]) for c in calls] == [
            ("/v1/transfers", "k2"),
            ("/v1/deposits/dep_1/return", "k3"),
        ]
        assert calls[0]["body"]["to_address"] == "0xabc"
        assert transfer_id.startswith("trf_") and return_id.startswith("ret_")

    def test_two_503s_then_success_succeeds_after_retries(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        httpx.post(f"{custodian.url}/_fake/fail", json={"statuses": [503, 503]})

        created = with_retries(
            lambda: rail.create_payment(
                escrow_id="e", amount_cents=1, currency="USD", idempotency_key="k"
            ),
            NO_SLEEP,
        )

        assert created.provider_payment_id.startswith("dep_")

    def test_a_400_is_permanent(self, custodian: BackgroundServer, rail: CustodianRail) -> None:
        httpx.post(f"{custodian.url}/_fake/fail", json={"statuses": [400]})

        with pytest.raises(PermanentError) as raised:
            with_retries(
                lambda: rail.create_payment(
                    escrow_id="e", amount_cents=1, currency="USD", idempotency_key="k"
                ),
                NO_SLEEP,
            )
        assert raised.value.code == "400"

    def test_a_custodian_that_never_recovers_fails_after_five_tries(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        httpx.post(f"{custodian.url}/_fake/fail", json={"statuses": [503], "forever": True})

        with pytest.raises(TransientError):
            with_retries(
                lambda: rail.create_payment(
                    escrow_id="e", amount_cents=1, currency="USD", idempotency_key="k"
                ),
                NO_SLEEP,
            )
        assert len(httpx.get(f"{custodian.url}/_fake/calls").json()) == 5

    def test_an_unreachable_custodian_is_transient(self) -> None:
        with pytest.raises(TransientError):
            CustodianRail("http://127.0.0.1:9", "key").create_payment(
                escrow_id="e", amount_cents=1, currency="USD", idempotency_key="k"
            )


class TestWebhookSignature:
    def test_a_signed_body_verifies(self) -> None:
        verify("secret", b"{}", sign("secret", b"{}"))

    @pytest.mark.parametrize(
        ("secret", "body", "header", "message"),
        [
            ("other", b"{}", sign("secret", b"{}"), "does not match"),
            ("secret", b"{ }", sign("secret", b"{}"), "does not match"),
            ("secret", b"{}", sign("secret", b"{}", timestamp=1), "tolerance"),
            ("secret", b"{}", "v1=abc", "malformed"),
        ],
    )
    def test_a_bad_signature_is_refused(
        self, secret: str, body: bytes, header: str, message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            verify(secret, body, header)


class TestScreening:
    @pytest.mark.parametrize(
        ("risk", "sanctioned", "verdict"),
        [
            (95, False, Verdict.RETURN),
            (10, True, Verdict.RETURN),
            (81, False, Verdict.RETURN),
            (80, False, Verdict.REVIEW),
            (65, False, Verdict.REVIEW),
            (50, False, Verdict.REVIEW),
            (49, False, Verdict.ACCEPT),
            (10, False, Verdict.ACCEPT),
        ],
    )
    def test_risk_thresholds(
        self,
        screening: BackgroundServer,
        screener: WalletScreener,
        risk: int,
        sanctioned: bool,
        verdict: Verdict,
    ) -> None:
        wallet = "0xAbC0000000000000000000000000000000000001"
        httpx.post(
            f"{screening.url}/_fake/wallets",
            json={"address": wallet, "risk_score": risk, "sanctioned": sanctioned},
        )

        result = screener.screen(wallet)

        assert (result.risk_score, result.sanctioned, result.verdict) == (risk, sanctioned, verdict)
