"""Reconciliation on the real broker (seeds: "Reconciliation", "Error Scenarios: Lost Webhook"):
the reconciler process beside the escrow, payments, webhooks and projections processes, with the
custodian fake and the Stripe recorder (stripe-mock behind it) as the providers.

Hourly: a payment whose webhook the provider lost is recovered within a pass and funds the escrow
through the webhooks topology. Daily: a transfer only the custodian has, and one only the ledger
has, are each reported once on ``reconciliation.discrepancies.v1``, counted, and fire the
``ReconciliationDiscrepancy`` alert rule.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors.custodian import CustodianRail
from connectors.topics import LEDGER_POSTINGS, PAYMENTS_EVENTS, RECONCILIATION_DISCREPANCIES
from kernel import mapping
from kernel.messages import EscrowFundsHeld, EscrowPaymentIntentRecorded, PaymentSucceeded
from kernel.model import Money
from schemas.common.v1.types_pb2 import Rail
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import Account, TransactionKind
from schemas.reconciliation.v1.discrepancies_pb2 import DiscrepancyKind
from tests.alerting import firing, metric_of, rule_expr, scrape
from tests.builders import create_escrow, random_escrow_id, random_id
from tests.escrow_harness import EscrowHarness
from tests.eventually import eventually
from tests.http_fakes import fake, free_port
from tests.kafka import EnvelopeProducer, Tail
from tests.processes import TopologyProcess
from tests.provider_fakes.serve import BackgroundServer

pytestmark = pytest.mark.integration

STRIPE_MOCK = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:12111")
USDC_AMOUNT = Money(2_500_000, "USD")  # above $10,000.00: the USDC rail
WALLET = "0xb0b0000000000000000000000000000000000001"


@dataclass
class Providers:
    custodian: BackgroundServer
    stripe: BackgroundServer
    screening: BackgroundServer

    def env(self) -> dict[str, str]:
        return {
            "CUSTODIAN_URL": self.custodian.url,
            "STRIPE_API_BASE": self.stripe.url,
            "STRIPE_API_KEY": "sk_test_escrowstreams",
            "TRM_URL": self.screening.url,
            "CHAINALYSIS_URL": self.screening.url,
        }


@pytest.fixture(scope="module")
def providers() -> Iterator[Providers]:
    with (
        fake("custodian") as custodian,
        fake("stripe_recorder", upstream=STRIPE_MOCK) as stripe,
        fake("screening") as screening,
    ):
        yield Providers(custodian, stripe, screening)


@pytest.fixture(scope="module")
def platform(
    providers: Providers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[TopologyProcess]]:
    """The processes a lost webhook's recovery goes through; the reconciler asks each second
    about every escrow unfunded for up to 5 minutes (the shared broker holds older ones)."""
    workdir = tmp_path_factory.mktemp("reconciliation")
    reconciling = {
        "RECONCILE_EVERY_S": "1",
        "RECONCILE_AWAIT_FUNDS_AFTER_S": "0",
        "RECONCILE_LOOKBACK_S": "300",
        "TRANSACTION_TIMEOUT_MS": "30000",
    }
    started = [
        TopologyProcess(
            name,
            workdir / f"state-{name}",
            workdir / f"{name}.log",
            **providers.env(),
            **reconciling,
        ).start()
        for name in ("escrow", "payments", "webhooks", "projections", "reconciler")
    ]
    yield started
    for process in started:
        process.stop()


def payment_of(harness: EscrowHarness, escrow_id: str) -> str:
    recorded = harness.wait_event(escrow_id, EscrowPaymentIntentRecorded, timeout_s=120)
    return str(recorded.provider_payment_id)


def recovered_payment(tail: Tail, escrow_id: str) -> list[PaymentSucceeded]:
    events = [mapping.PAYMENT_EVENTS.to_domain(e) for e in tail.envelopes(escrow_id)]
    return [e for e in events if isinstance(e, PaymentSucceeded)]


class TestHourly:
    def test_a_deposit_whose_webhook_the_custodian_lost_is_recovered_and_funds_the_escrow(
        self,
        platform: list[TopologyProcess],
        providers: Providers,
        escrow_harness: EscrowHarness,
        bootstrap_servers: str,
    ) -> None:
        payments = Tail(bootstrap_servers, PAYMENTS_EVENTS)
        escrow_id = random_escrow_id()
        escrow_harness.command(create_escrow(escrow_id, amount=USDC_AMOUNT))
        deposit_id = payment_of(escrow_harness, escrow_id)
        custodian = providers.custodian.url
        httpx.post(f"{custodian}/_fake/drop-webhooks", json={"deposit_id": deposit_id})

        httpx.post(
            f"{custodian}/_fake/deposits/{deposit_id}/confirm", json={"from_address": WALLET}
        ).raise_for_status()
        funded = escrow_harness.wait_event(escrow_id, EscrowFundsHeld, timeout_s=120)

        [lost] = httpx.get(f"{custodian}/_fake/dropped-webhooks").json()
        assert (lost["type"], lost["data"]["deposit_id"]) == ("deposit.confirmed", deposit_id)
        assert (funded.provider_payment_id, funded.amount) == (deposit_id, USDC_AMOUNT)
        payments.wait_for(lambda _: bool(recovered_payment(payments, escrow_id)))
        time.sleep(3)  # three more passes: the same recovered webhook, deduplicated
        payments.poll_batch(1)
        [succeeded] = recovered_payment(payments, escrow_id)
        assert succeeded.recovered_by_reconciliation
        assert succeeded.payer_wallet_address == WALLET  # screened like any deposit
        payments.close()

    def test_a_stripe_payment_whose_webhook_was_lost_is_recovered_and_funds_the_escrow(
        self,
        platform: list[TopologyProcess],
        providers: Providers,
        escrow_harness: EscrowHarness,
        bootstrap_servers: str,
    ) -> None:
        payments = Tail(bootstrap_servers, PAYMENTS_EVENTS)
        escrow_id = random_escrow_id()
        escrow_harness.command(create_escrow(escrow_id))
        intent_id = payment_of(escrow_harness, escrow_id)

        # The buyer paid; Stripe's payment_intent.succeeded never reached us.
        paid = {"status": "succeeded", "amount_received": 500_000}
        httpx.post(f"{providers.stripe.url}/_fake/objects/{intent_id}", json=paid)
        funded = escrow_harness.wait_event(escrow_id, EscrowFundsHeld, timeout_s=120)

        assert funded.provider_payment_id == intent_id
        payments.wait_for(lambda _: bool(recovered_payment(payments, escrow_id)))
        [succeeded] = recovered_payment(payments, escrow_id)
        assert succeeded.recovered_by_reconciliation
        payments.close()


# --- daily ------------------------------------------------------------------------------------


@dataclass
class Reconciler:
    metrics_url: str
    custodian: BackgroundServer
    env: dict[str, str]


@pytest.fixture
def reconciler(tmp_path: Path) -> Iterator[Reconciler]:
    """A reconciler of the custodian alone, its daily pass every 2 s over the last 2 minutes,
    reporting at once what the ledger lacks, with metrics on a free port."""
    port = free_port()
    with fake("custodian") as custodian:
        env = {
            "CUSTODIAN_URL": custodian.url,
            "RECONCILE_PROVIDERS": "custodian",
            "RECONCILE_DAILY_EVERY_S": "2",
            "RECONCILE_DAILY_WINDOW_S": "120",
            "RECONCILE_LEDGER_GRACE_S": "0",
        }
        metrics = {"METRICS_PORT": str(port)}
        process = TopologyProcess(
            "reconciler", tmp_path / "state", tmp_path / "reconciler.log", **env, **metrics
        ).start()
        url = f"http://127.0.0.1:{port}/metrics"
        eventually(
            lambda: httpx.get(url).status_code == 200,
            120,
            interval_s=0.2,
            ignoring=(httpx.HTTPError,),
            what="the reconciler serving /metrics",
        )
        yield Reconciler(url, custodian, env)
        process.stop()


def release_posting(escrow_id: str, transfer_id: str, cents: int) -> list[LedgerPosting]:
    """The two lines of a release the ledger recorded: Dr seller paid, Cr holding."""
    transaction_id = random_id("txn")
    lines = []
    for index, (account, amount) in enumerate(
        ((Account.ACCOUNT_SELLER_PAID, cents), (Account.ACCOUNT_ESCROW_HOLDING, -cents))
    ):
        line = LedgerPosting(
            transaction_id=transaction_id,
            index=index,
            transaction_size=2,
            kind=TransactionKind.TRANSACTION_KIND_RELEASE,
            escrow_id=escrow_id,
            account=account,
            rail=Rail.RAIL_USDC_BASE,
            amount_cents=amount,
            currency="USD",
            provider_object_id=transfer_id,
        )
        line.cause.occurred_at.FromDatetime(datetime.now(UTC))
        lines.append(line)
    return lines


def test_transfers_on_one_side_only_are_reported_once_counted_and_alerted(
    reconciler: Reconciler, bootstrap_servers: str
) -> None:
    discrepancies = Tail(bootstrap_servers, RECONCILIATION_DISCREPANCIES)
    expr = rule_expr("ReconciliationDiscrepancy")
    before = scrape(reconciler.metrics_url, metric_of(expr))
    # The custodian paid a seller; the ledger never heard of it.
    custodian = CustodianRail(reconciler.custodian.url, "key")
    only_at_custodian = custodian.transfer(
        escrow_id=random_escrow_id(),
        amount_cents=USDC_AMOUNT.amount_cents,
        currency="USD",
        provider_payment_id="dep_1",
        destination=WALLET,
        idempotency_key=random_id("cmd"),
    ).provider_id
    settled = {"id": only_at_custodian, "outcome": "completed"}
    httpx.post(f"{reconciler.custodian.url}/_fake/settle", json=settled).raise_for_status()
    # The ledger recorded a release by a transfer the custodian never made.
    only_in_ledger = random_id("trf_ghost")
    producer = EnvelopeProducer(bootstrap_servers)
    escrow_id = random_escrow_id()
    for line in release_posting(escrow_id, only_in_ledger, USDC_AMOUNT.amount_cents):
        producer.send(LEDGER_POSTINGS, escrow_id, line)

    keys = {only_at_custodian.encode(), only_in_ledger.encode()}
    discrepancies.wait_for(lambda rs: keys <= {r.key() for r in rs}, timeout_s=60)
    time.sleep(5)  # two more daily passes find them again
    discrepancies.poll_batch(1)
    after = scrape(reconciler.metrics_url, metric_of(expr))

    found = {
        r.key().decode(): discrepancies.decode(r) for r in discrepancies.records if r.key() in keys
    }
    assert [r.key() for r in discrepancies.records if r.key() in keys].count(
        only_at_custodian.encode()
    ) == 1  # reported once, however many passes found it
    assert found[only_at_custodian].kind == DiscrepancyKind.DISCREPANCY_KIND_MISSING_IN_LEDGER
    assert found[only_in_ledger].kind == DiscrepancyKind.DISCREPANCY_KIND_MISSING_AT_PROVIDER
    assert found[only_in_ledger].escrow_id == escrow_id
    assert found[only_at_custodian].provider_amount.amount_cents == USDC_AMOUNT.amount_cents
    alerts = firing(expr, before, after)
    assert {("custodian", "missing_in_ledger"), ("custodian", "missing_at_provider")} <= alerts
    discrepancies.close()
    custodian.close()

    # On demand: the same pass finds them, and reports nothing new.
    answer = subprocess.run(
        [sys.executable, "-m", "topologies.cli", "reconcile", "--provider", "custodian"],
        env={**os.environ, **reconciler.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "missing_in_ledger" in answer.stdout and only_at_custodian in answer.stdout
    assert " 0 new" in answer.stdout
