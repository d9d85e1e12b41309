"""The custodian and screening clients against their local fakes (real HTTP servers). The
custodian rail runs the payment-rail contract (``tests.contract.payment_rail``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from connectors.custodian import CustodianRail, sign, verify
from connectors.exceptions import PermanentError, TransientError
from connectors.payment_rail import CreatedPayment, PaymentRail
from connectors.screening import ChainalysisClient, TrmClient, Verdict, WalletScreener
from tests.contract.payment_rail import IdPrefixes, PaymentRailContract
from tests.http_fakes import calls, fake, inject_failures
from tests.provider_fakes.serve import BackgroundServer


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


class TestCustodianRail(PaymentRailContract):
    ids = IdPrefixes(payment="dep_", transfer="trf_", refund="ret_")
    destination = "0x5e11e7000000000000000000000000000000beef"
    server_replays_idempotent_requests = True
    transfers_settle_at_once = False  # on chain: transfer.completed confirms it
    refunds_settle_at_once = False  # return.completed confirms it
    payment_succeeded_event = "deposit.confirmed"
    server: BackgroundServer
    rails: ExitStack

    @pytest.fixture(autouse=True)
    def _server(self, custodian: BackgroundServer) -> Iterator[None]:
        self.server = custodian
        with ExitStack() as self.rails:
            yield

    def make_rail(self) -> PaymentRail:
        rail = CustodianRail(self.server.url, "key")
        self.rails.callback(rail.close)
        return rail

    def fail_next(self, *statuses: int) -> None:
        inject_failures(self.server, *statuses)

    def fail_every_request(self, status: int) -> None:
        inject_failures(self.server, status, forever=True)

    def pay_in(self, payment: CreatedPayment, amount_cents: int) -> None:
        httpx.post(
            f"{self.server.url}/_fake/deposits/{payment.provider_payment_id}/confirm",
            json={"from_address": "0xbuyer", "amount_cents": amount_cents},
        ).raise_for_status()

    def idempotency_keys_sent(self) -> list[str | None]:
        return [call["idempotency_key"] for call in calls(self.server)]


class TestCustodianApi:
    """What only the custodian rail does, beyond the payment-rail contract."""

    def test_a_repeated_idempotency_key_creates_nothing(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        for _ in range(2):
            rail.create_payment(
                escrow_id="e", amount_cents=2_000_000, currency="USD", idempotency_key="k1"
            )

        assert len(httpx.get(f"{custodian.url}/_fake/objects").json()) == 1

    def test_payment_transfer_and_return_send_the_documented_bodies(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        created = rail.create_payment(
            escrow_id="e", amount_cents=5, currency="USD", idempotency_key="k1"
        )
        rail.transfer(
            escrow_id="e",
            amount_cents=5,
            currency="USD",
            provider_payment_id="dep_1",
            destination="0xabc",
            idempotency_key="k2",
        )
        rail.refund(
            escrow_id="e",
            amount_cents=5,
            currency="USD",
            provider_payment_id="dep_1",
            idempotency_key="k3",
        )

        deposit, transfer, refund = calls(custodian)
        assert (deposit["path"], deposit["body"]) == (
            "/v1/deposit-addresses",
            {
                "reference": "e",
                "amount_cents": 5,
                "currency": "USD",
                "asset": "USDC",
                "chain": "base",
            },
        )
        assert (transfer["path"], transfer["body"]) == (
            "/v1/transfers",
            {
                "reference": "e",
                "external_id": "k2",
                "deposit_id": "dep_1",
                "to_address": "0xabc",
                "amount_cents": 5,
                "currency": "USD",
                "asset": "USDC",
                "chain": "base",
            },
        )
        assert (refund["path"], refund["body"]) == (
            "/v1/deposits/dep_1/return",
            {"reference": "e", "external_id": "k3", "reason": "refund"},
        )
        assert created.deposit_address.startswith("0x") and not created.client_secret

    def test_a_400_is_permanent_with_the_status_as_its_code(
        self, custodian: BackgroundServer, rail: CustodianRail
    ) -> None:
        inject_failures(custodian, 400)

        with pytest.raises(PermanentError) as raised:
            rail.create_payment(escrow_id="e", amount_cents=1, currency="USD", idempotency_key="k")
        assert raised.value.code == "400"

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
        ids=["wrong-secret", "altered-body", "replayed", "malformed"],
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
