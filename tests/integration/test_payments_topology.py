"""The payments topology process on the real broker, against stripe-mock and the custodian fake."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from connectors.topics import PAYMENTS_COMMANDS, PAYMENTS_EVENTS, dlq_topic
from kernel import mapping
from kernel.messages import (
    CommandMeta,
    CreatePaymentIntent,
    PaymentCommand,
    PaymentEvent,
    PaymentIntentCreated,
    PaymentReturned,
    ReturnPayment,
    TransferFailed,
    TransferSubmitted,
    TransferToSeller,
)
from kernel.model import Money, Rail
from tests.builders import AMOUNT, NOW, SCHEDULER, random_escrow_id, random_id
from tests.eventually import eventually
from tests.http_fakes import fake
from tests.integration.conftest import ProcessFactory
from tests.kafka import EnvelopeProducer, Tail
from tests.provider_fakes.serve import BackgroundServer
from topologies.records import DLQ_ERROR

pytestmark = pytest.mark.integration

WALLET = "0x5e11e7000000000000000000000000000000beef"
USDC_AMOUNT = Money(2_500_000, "USD")


class PaymentsHarness:
    def __init__(self, bootstrap: str) -> None:
        self.producer = EnvelopeProducer(bootstrap)
        self.events = Tail(bootstrap, PAYMENTS_EVENTS)
        self.dlq = Tail(bootstrap, dlq_topic(PAYMENTS_COMMANDS))

    def send(self, command: PaymentCommand) -> None:
        envelope = mapping.PAYMENT_COMMANDS.to_proto(command)
        self.producer.send(PAYMENTS_COMMANDS, command.meta.escrow_id, envelope)

    def events_of(self, escrow_id: str) -> list[PaymentEvent]:
        return [mapping.PAYMENT_EVENTS.to_domain(e) for e in self.events.envelopes(escrow_id)]

    def wait_event(self, escrow_id: str, kind: type) -> Any:
        self.events.wait_for(lambda _: any(isinstance(e, kind) for e in self.events_of(escrow_id)))
        return next(e for e in self.events_of(escrow_id) if isinstance(e, kind))

    def close(self) -> None:
        self.events.close()
        self.dlq.close()


@pytest.fixture
def custodian() -> Iterator[BackgroundServer]:
    with fake("custodian") as server:
        yield server


@pytest.fixture
def harness(bootstrap_servers: str) -> Iterator[PaymentsHarness]:
    payments = PaymentsHarness(bootstrap_servers)
    yield payments
    payments.close()


def start_payments(start: ProcessFactory, custodian: BackgroundServer, instance: str = "a") -> Any:
    return start(
        "payments",
        instance,
        CUSTODIAN_URL=custodian.url,
        STRIPE_API_BASE=os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:12111"),
        STRIPE_API_KEY="sk_test_escrowstreams",
        TRANSACTION_TIMEOUT_MS="10000",
    )


def meta(escrow_id: str) -> CommandMeta:
    return CommandMeta(random_id("pcmd"), escrow_id, SCHEDULER, NOW, None, "corr-1")


def create_intent(escrow_id: str, rail: Rail = Rail.STRIPE) -> CreatePaymentIntent:
    amount = AMOUNT if rail is Rail.STRIPE else USDC_AMOUNT
    return CreatePaymentIntent(meta(escrow_id), amount, rail, "buyer-1", "seller-1", "contract-1")


def usdc_transfer(escrow_id: str) -> TransferToSeller:
    return TransferToSeller(meta(escrow_id), USDC_AMOUNT, Rail.USDC_BASE, "dep_1", "", WALLET)


def test_a_stripe_payment_intent_is_created_and_reported(
    start_topology: ProcessFactory, custodian: BackgroundServer, harness: PaymentsHarness
) -> None:
    start_payments(start_topology, custodian)
    escrow_id = random_escrow_id()
    command = create_intent(escrow_id)

    harness.send(command)
    created = harness.wait_event(escrow_id, PaymentIntentCreated)

    assert created.provider_payment_id.startswith("pi_") and created.client_secret
    assert (created.rail, created.amount) == (Rail.STRIPE, AMOUNT)
    assert created.meta.causation_id == command.meta.command_id


def test_a_usdc_payment_gets_a_deposit_address(
    start_topology: ProcessFactory, custodian: BackgroundServer, harness: PaymentsHarness
) -> None:
    start_payments(start_topology, custodian)
    escrow_id = random_escrow_id()

    harness.send(create_intent(escrow_id, Rail.USDC_BASE))
    created = harness.wait_event(escrow_id, PaymentIntentCreated)

    assert created.provider_payment_id.startswith("dep_")
    assert created.deposit_address.startswith("0x")


def test_a_refused_transfer_yields_transfer_failed(
    start_topology: ProcessFactory, custodian: BackgroundServer, harness: PaymentsHarness
) -> None:
    start_payments(start_topology, custodian)
    httpx.post(f"{custodian.url}/_fake/fail", json={"statuses": [400]})
    escrow_id = random_escrow_id()

    harness.send(usdc_transfer(escrow_id))
    failed = harness.wait_event(escrow_id, TransferFailed)

    assert failed.failure_code == "400"


def test_a_custodian_that_never_recovers_yields_failed_and_a_dead_letter(
    start_topology: ProcessFactory, custodian: BackgroundServer, harness: PaymentsHarness
) -> None:
    start_payments(start_topology, custodian)
    httpx.post(f"{custodian.url}/_fake/fail", json={"statuses": [503], "forever": True})
    escrow_id = random_escrow_id()

    harness.send(usdc_transfer(escrow_id))
    failed = harness.wait_event(escrow_id, TransferFailed)
    [letter] = harness.dlq.wait_for(lambda rs: any(r.key() == escrow_id.encode() for r in rs))

    assert failed.failure_code == "retries_exhausted"
    assert len(httpx.get(f"{custodian.url}/_fake/calls").json()) == 5
    assert b"HTTP 503" in dict(letter.headers() or [])[DLQ_ERROR]


def usdc_return(escrow_id: str) -> ReturnPayment:
    """Money a (cancelled) escrow cannot take goes back to its sender."""
    return ReturnPayment(meta(escrow_id), USDC_AMOUNT, Rail.USDC_BASE, "dep_1", "cancelled")


@pytest.mark.parametrize(
    ("command_for", "answer", "prefix"),
    [(usdc_transfer, TransferSubmitted, "trf_"), (usdc_return, PaymentReturned, "ret_")],
    ids=["transfer", "return"],
)
def test_a_crash_between_the_provider_call_and_the_commit_moves_money_once(
    start_topology: ProcessFactory,
    custodian: BackgroundServer,
    harness: PaymentsHarness,
    command_for: Callable[[str], PaymentCommand],
    answer: type,
    prefix: str,
) -> None:
    first = start_payments(start_topology, custodian, "first")
    httpx.post(f"{custodian.url}/_fake/delay", json={"seconds": 1.0})
    escrow_id = random_escrow_id()
    command = command_for(escrow_id)

    harness.send(command)
    eventually(  # the call is under way
        lambda: httpx.get(f"{custodian.url}/_fake/calls").json(),
        60,
        interval_s=0.05,
        what="the payments topology calling the custodian",
    )
    first.kill()  # SIGKILL: no commit, no clean shutdown
    start_payments(start_topology, custodian, "second")
    harness.wait_event(escrow_id, answer)
    harness.send(create_intent(escrow_id, Rail.USDC_BASE))  # a later record on the partition
    harness.wait_event(escrow_id, PaymentIntentCreated)

    key = command.meta.command_id
    calls = [
        c for c in httpx.get(f"{custodian.url}/_fake/calls").json() if c["idempotency_key"] == key
    ]
    made = [
        o for o in httpx.get(f"{custodian.url}/_fake/objects").json() if o["id"].startswith(prefix)
    ]
    assert len(calls) == 2  # the call was repeated after the crash ...
    assert len(made) == 1  # ... but moved the money once
    assert sum(isinstance(e, answer) for e in harness.events_of(escrow_id)) == 1
