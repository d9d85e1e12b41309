"""The escrow topology process on the real broker: wiring, serdes, DLQ, exactly-once, restore,
scaling. The decisions themselves are covered by the unit tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from confluent_kafka.admin import AdminClient

from connectors.topics import ESCROW_COMMANDS, dlq_topic
from kernel.messages import (
    CreatePaymentIntent,
    EscrowCommandRejected,
    EscrowCreated,
    EscrowDelivered,
    EscrowFundsHeld,
    EscrowReleased,
    MarkDelivered,
    RaiseDispute,
    ReleaseFunds,
    TransferSucceeded,
    TransferToSeller,
)
from tests.builders import (
    AMOUNT,
    BUYER,
    SELLER,
    command_meta,
    create_escrow,
    payment_meta,
    payment_succeeded,
    random_escrow_id,
)
from tests.envelopes import framed, resolve_dispute
from tests.escrow_harness import EscrowHarness
from tests.integration.conftest import ProcessFactory
from tests.kafka import Tail
from tests.processes import TEST_GROUP_PREFIX
from topologies.records import DLQ_ERROR, DLQ_OFFSET, DLQ_PARTITION, DLQ_TOPIC

pytestmark = pytest.mark.integration


def test_a_full_lifecycle_is_driven_by_commands_and_payment_events(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness
) -> None:
    start_topology("escrow")
    escrow_id = random_escrow_id()

    escrow_harness.fund(escrow_id)
    escrow_harness.command(MarkDelivered(command_meta(escrow_id, SELLER)))
    escrow_harness.command(ReleaseFunds(command_meta(escrow_id, BUYER)))
    transfer = escrow_harness.wait_payment_command(escrow_id, TransferToSeller)
    escrow_harness.payment_event(
        TransferSucceeded(payment_meta(escrow_id, transfer.meta.command_id), "tr_1", AMOUNT)
    )
    escrow_harness.wait_event(escrow_id, EscrowReleased)

    events = escrow_harness.events_of(escrow_id)
    assert [type(e).__name__ for e in events] == [
        "EscrowCreated",
        "EscrowAwaitFunds",
        "EscrowPaymentIntentRecorded",
        "EscrowFundsHeld",
        "EscrowDelivered",
        "EscrowTransferRequested",
        "EscrowReleased",
    ]
    assert [e.meta.version for e in events] == list(range(1, 8))


def test_a_duplicate_command_emits_nothing_new(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness
) -> None:
    start_topology("escrow")
    escrow_id = random_escrow_id()
    escrow_harness.fund(escrow_id)
    delivered = MarkDelivered(command_meta(escrow_id, SELLER))

    escrow_harness.command(delivered)
    escrow_harness.command(delivered)
    # A later command on the same partition: once its outcome shows, the duplicate was handled.
    escrow_harness.command(RaiseDispute(command_meta(escrow_id, SELLER), "marker"))
    events = escrow_harness.wait_events(
        escrow_id, lambda es: isinstance(es[-1], EscrowCommandRejected)
    )

    assert sum(isinstance(e, EscrowDelivered) for e in events) == 1


def test_a_rejected_command_emits_the_reason_and_leaves_the_state(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness
) -> None:
    start_topology("escrow")
    escrow_id = random_escrow_id()
    escrow_harness.fund(escrow_id)

    escrow_harness.command(MarkDelivered(command_meta(escrow_id, BUYER)))
    rejected = escrow_harness.wait_event(escrow_id, EscrowCommandRejected)
    escrow_harness.command(MarkDelivered(command_meta(escrow_id, SELLER)))
    delivered = escrow_harness.wait_event(escrow_id, EscrowDelivered)

    assert (rejected.reason, rejected.command_type) == ("NOT_SELLER", "MarkDelivered")
    assert rejected.meta.version == 4  # the version it found, unchanged
    assert delivered.meta.version == 5


@pytest.mark.parametrize(
    ("poison", "reason"),
    [
        (lambda escrow_id: b"not protobuf", b"magic byte"),
        (
            lambda escrow_id: framed(resolve_dispute(escrow_id, 99), ESCROW_COMMANDS),
            b"not a valid DisputeResolution",
        ),
    ],
    ids=["random-bytes", "unknown-enum-value"],
)
def test_a_poison_message_goes_to_the_dlq_and_the_next_is_processed(
    start_topology: ProcessFactory,
    escrow_harness: EscrowHarness,
    bootstrap_servers: str,
    poison: Callable[[str], bytes],
    reason: bytes,
) -> None:
    start_topology("escrow")
    escrow_id = random_escrow_id()
    dlq = Tail(bootstrap_servers, dlq_topic(ESCROW_COMMANDS))

    poisoned = poison(escrow_id)
    escrow_harness.producer.send_raw(ESCROW_COMMANDS, escrow_id, poisoned)
    escrow_harness.command(create_escrow(escrow_id))
    escrow_harness.wait_event(escrow_id, EscrowCreated)
    [letter] = dlq.wait_for(lambda rs: any(r.key() == escrow_id.encode() for r in rs))
    dlq.close()

    headers = dict(letter.headers() or [])
    assert letter.value() == poisoned
    assert reason in headers[DLQ_ERROR]
    assert headers[DLQ_TOPIC] == ESCROW_COMMANDS.encode()
    assert int(headers[DLQ_PARTITION]) == letter.partition()
    assert int(headers[DLQ_OFFSET]) >= 0


def test_state_is_restored_from_the_changelog_after_the_local_store_is_lost(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness
) -> None:
    first = start_topology("escrow", "first")
    escrow_id = random_escrow_id()
    escrow_harness.fund(escrow_id)
    paid = payment_succeeded(escrow_id)
    escrow_harness.payment_event(paid)  # applied: FUNDS_HELD at version 4
    escrow_harness.wait_event(escrow_id, EscrowFundsHeld)
    first.stop()
    shutil.rmtree(first.state_dir)

    start_topology("escrow", "second")
    escrow_harness.payment_event(paid)  # a duplicate: the restored idempotency record knows it
    escrow_harness.command(MarkDelivered(command_meta(escrow_id, SELLER)))
    delivered = escrow_harness.wait_event(escrow_id, EscrowDelivered)

    assert delivered.meta.version == 5
    assert sum(isinstance(e, EscrowFundsHeld) for e in escrow_harness.events_of(escrow_id)) == 1


def test_two_instances_split_the_partitions_and_emit_one_outcome_per_escrow(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness, admin: AdminClient
) -> None:
    start_topology("escrow", "a")
    start_topology("escrow", "b")
    escrow_ids = [random_escrow_id() for _ in range(24)]

    for escrow_id in escrow_ids:
        escrow_harness.command(create_escrow(escrow_id))
    for escrow_id in escrow_ids:
        escrow_harness.wait_event(escrow_id, EscrowCreated)
        escrow_harness.wait_payment_command(escrow_id, CreatePaymentIntent)

    group = f"{TEST_GROUP_PREFIX}.escrow"
    members = admin.describe_consumer_groups([group])[group].result().members
    assert len(members) == 2
    assert all(m.assignment.topic_partitions for m in members)
    for escrow_id in escrow_ids:
        created = [e for e in escrow_harness.events_of(escrow_id) if isinstance(e, EscrowCreated)]
        intents = escrow_harness.payment_commands_of(escrow_id)
        assert (len(created), len(intents)) == (1, 1)
