"""Protobuf <-> domain mapping: every message survives the round trip, times to the microsecond."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from kernel import mapping
from kernel.messages import EscrowAwaitFunds, MarkDelivered, Message, ReleaseFunds, TransferFailed
from kernel.model import Escrow, Policy
from tests.builders import (
    BUYER,
    NOW,
    SELLER,
    command_meta,
    create_escrow,
    payment_intent_created,
    payment_meta,
    payment_succeeded,
)
from topologies.escrow.decide import decide

MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(MOMENTS)
def test_a_moment_round_trips_exactly(moment: datetime) -> None:
    message = Timestamp()
    mapping._timestamp(message, moment)  # noqa: SLF001 - the conversion itself

    assert (message.seconds, message.nanos) == _reference(moment)
    assert mapping._datetime(message) == moment  # noqa: SLF001


def _reference(moment: datetime) -> tuple[int, int]:
    reference = Timestamp()
    reference.FromDatetime(moment)
    return reference.seconds, reference.nanos


def test_a_naive_moment_is_utc_as_for_protobuf() -> None:
    naive = datetime(2026, 11, 22, 12, 0, 0, 123456)
    message = Timestamp()
    mapping._timestamp(message, naive)  # noqa: SLF001

    assert (message.seconds, message.nanos) == _reference(naive)


def test_every_message_of_a_lifecycle_round_trips() -> None:
    """Commands, events (optional times set and unset, enums, nested messages) and payment
    commands, as the state machine makes them."""
    policy = Policy(payout_retry_initial=timedelta(seconds=1))
    messages: list[Message] = [
        create_escrow(),
        payment_intent_created(),
        payment_succeeded(),
        MarkDelivered(command_meta(actor=SELLER)),
        ReleaseFunds(command_meta(actor=BUYER), "AUTO_RELEASE"),
    ]
    state: Escrow | None = None
    produced: list[Any] = []
    for message in messages:
        decision = decide(state, message, NOW, policy)
        state = decision.state
        produced += [*decision.events, *decision.payment_commands]
    assert state is not None
    failed = decide(
        state,
        TransferFailed(payment_meta(causation_id=state.pending_transfer_command_id), "x"),
        NOW,
    )
    produced += failed.events

    for command in messages[3:]:
        assert mapping.COMMANDS.to_domain(mapping.COMMANDS.to_proto(command)) == command
    for item in produced:
        mapper = mapping.EVENTS if hasattr(item.meta, "event_id") else mapping.PAYMENT_COMMANDS
        assert mapper.to_domain(mapper.to_proto(item)) == item


def test_an_unset_optional_time_stays_unset() -> None:
    awaiting = decide(None, create_escrow(), NOW).events[1]
    assert isinstance(awaiting, EscrowAwaitFunds)
    without = replace(awaiting, funding_deadline=None)

    envelope: Any = mapping.EVENTS.to_proto(without)

    assert not envelope.escrow_await_funds.HasField("funding_deadline")
    assert mapping.EVENTS.to_domain(envelope) == without
