"""The ledger topology process on the real broker: escrow and payment events in, balanced
postings and violations out. The posting rules and invariants are covered by the unit tests.

The inputs are what the escrow state machine (``decide``) emits for two stories, produced to
``escrow.events.v1`` and ``payments.events.v1`` as the escrow and payments topologies would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from connectors.topics import ESCROW_EVENTS, LEDGER_POSTINGS, LEDGER_VIOLATIONS, PAYMENTS_EVENTS
from kernel import mapping
from kernel.messages import (
    CancelEscrow,
    CommandMeta,
    EscrowEvent,
    EscrowPaymentReturned,
    EscrowReleased,
    MarkDelivered,
    Message,
    PaymentEvent,
    PaymentReturned,
    ReleaseFunds,
    ReturnPayment,
    TransferSucceeded,
    TransferToSeller,
)
from kernel.model import Escrow
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import TransactionKind
from schemas.ledger.v1.violations_pb2 import LedgerViolation
from tests.builders import (
    AMOUNT,
    BUYER,
    NOW,
    SELLER,
    command_meta,
    create_escrow,
    payment_intent_created,
    payment_meta,
    payment_succeeded,
    random_escrow_id,
    random_id,
)
from tests.integration.conftest import ProcessFactory
from tests.kafka import EnvelopeProducer, Tail
from topologies.escrow.decide import decide

pytestmark = pytest.mark.integration

# The first run of a new consumer group reads the broker's whole history of both topics.
CATCH_UP_S = 180


class Story:
    """One escrow's life through the real state machine, told to the ledger as the escrow and
    payments topologies would tell it: each payment event, then the escrow events it caused."""

    def __init__(self, producer: EnvelopeProducer) -> None:
        self.escrow_id = random_escrow_id()
        self.producer = producer
        self.state: Escrow | None = None
        self.commands: list[Any] = []
        self.events: list[EscrowEvent] = []

    def tell(self, message: Message) -> None:
        if not isinstance(message.meta, CommandMeta):
            self.payment_event(message)
        decision = decide(self.state, message, NOW)
        assert decision.rejection is None, decision.rejection
        self.state = decision.state
        self.commands += decision.payment_commands
        for event in decision.events:
            self.escrow_event(event)

    def escrow_event(self, event: EscrowEvent) -> None:
        self.events.append(event)
        self.producer.send(ESCROW_EVENTS, self.escrow_id, mapping.EVENTS.to_proto(event))

    def payment_event(self, event: PaymentEvent) -> None:
        envelope = mapping.PAYMENT_EVENTS.to_proto(event)
        self.producer.send(PAYMENTS_EVENTS, self.escrow_id, envelope)

    def command(self, kind: type) -> Any:
        return next(c for c in self.commands if isinstance(c, kind))

    def event(self, kind: type) -> Any:
        return next(e for e in self.events if isinstance(e, kind))


@pytest.fixture
def producer(bootstrap_servers: str) -> EnvelopeProducer:
    return EnvelopeProducer(bootstrap_servers)


@pytest.fixture
def postings(bootstrap_servers: str) -> Iterator[Tail]:
    tail = Tail(bootstrap_servers, LEDGER_POSTINGS)
    yield tail
    tail.close()


@pytest.fixture
def violations(bootstrap_servers: str) -> Iterator[Tail]:
    tail = Tail(bootstrap_servers, LEDGER_VIOLATIONS)
    yield tail
    tail.close()


def released(producer: EnvelopeProducer) -> Story:
    story = Story(producer)
    escrow_id = story.escrow_id
    story.tell(create_escrow(escrow_id))
    story.tell(payment_intent_created(escrow_id))
    story.tell(payment_succeeded(escrow_id))
    story.tell(MarkDelivered(command_meta(escrow_id, SELLER)))
    story.tell(ReleaseFunds(command_meta(escrow_id, BUYER)))
    transfer_id = story.command(TransferToSeller).meta.command_id
    story.tell(TransferSucceeded(payment_meta(escrow_id, transfer_id), "tr_1", AMOUNT, transfer_id))
    return story


def cancelled_then_paid_late(producer: EnvelopeProducer) -> Story:
    story = Story(producer)
    escrow_id = story.escrow_id
    story.tell(create_escrow(escrow_id))
    story.tell(payment_intent_created(escrow_id))
    story.tell(CancelEscrow(command_meta(escrow_id, BUYER), "changed my mind"))
    story.tell(payment_succeeded(escrow_id))  # late: returned
    back = story.command(ReturnPayment)
    story.tell(
        PaymentReturned(
            payment_meta(escrow_id, back.meta.command_id),
            back.provider_payment_id,
            "re_return_1",
            back.amount,
            back.reason,
        )
    )
    return story


def lines_of(tail: Tail, escrow_id: str, count: int) -> list[LedgerPosting]:
    tail.wait_for(lambda _: len(tail.envelopes(escrow_id)) >= count, CATCH_UP_S)
    return list(tail.envelopes(escrow_id))


def transactions(lines: list[LedgerPosting]) -> dict[str, list[LedgerPosting]]:
    grouped: dict[str, list[LedgerPosting]] = {}
    for line in lines:
        grouped.setdefault(line.transaction_id, []).append(line)
    return grouped


def assert_balanced(lines: list[LedgerPosting]) -> None:
    for transaction_id, group in transactions(lines).items():
        assert len(group) == group[0].transaction_size, transaction_id
        assert sum(line.amount_cents for line in group) == 0, transaction_id


def kinds(lines: list[LedgerPosting]) -> list[str]:
    grouped = transactions(lines).values()
    return [
        TransactionKind.Name(group[0].kind).removeprefix("TRANSACTION_KIND_") for group in grouped
    ]


def violations_until_resolved_twice(tail: Tail, escrow_id: str) -> list[LedgerViolation]:
    """Those of the escrow read until one says money was resolved twice."""

    def found(envelopes: list[LedgerViolation]) -> bool:
        return any(v.HasField("resolved_twice") for v in envelopes)

    tail.wait_for(lambda _: found(tail.envelopes(escrow_id)), 60)
    return list(tail.envelopes(escrow_id))


def test_money_movements_become_balanced_postings_and_contradictions_violations(
    start_topology: ProcessFactory,
    producer: EnvelopeProducer,
    postings: Tail,
    violations: Tail,
) -> None:
    start_topology("ledger")

    paid_out = released(producer)
    returned = cancelled_then_paid_late(producer)
    paid_out_lines = lines_of(postings, paid_out.escrow_id, 6)
    returned_lines = lines_of(postings, returned.escrow_id, 6)

    assert kinds(paid_out_lines) == ["ARRIVAL", "TAKE", "RELEASE"]
    assert kinds(returned_lines) == ["ARRIVAL", "RETURN_REQUESTED", "RETURN_SETTLED"]
    for lines in (paid_out_lines, returned_lines):
        assert_balanced(lines)
        assert {line.currency for line in lines} == {"USD"}

    # The same money moved again under new event ids: the ledger must object. Every violation of
    # these escrows comes after their clean stories on one partition, so the first ones read are
    # the contradictions' (none came from the stories).
    release = paid_out.event(EscrowReleased)
    again = replace(release, meta=replace(release.meta, event_id=random_id("evt")))
    paid_out.escrow_event(again)
    back = returned.event(EscrowPaymentReturned)
    back_again = replace(back, meta=replace(back.meta, event_id=random_id("evt")))
    returned.escrow_event(back_again)

    found = violations_until_resolved_twice(violations, paid_out.escrow_id)
    assert {v.cause.event_id for v in found} == {again.meta.event_id}
    assert {v.WhichOneof("violation") for v in found} >= {"holding_mismatch", "resolved_twice"}
    found = violations_until_resolved_twice(violations, returned.escrow_id)
    assert {v.cause.event_id for v in found} == {back_again.meta.event_id}
