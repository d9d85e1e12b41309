"""The scheduler topology on the real broker, with the escrow topology's clocks shortened to
seconds: unfunded escrows time out, silent buyers' escrows are released, a timer racing a buyer
ends in one transfer, timers survive a SIGKILL with the local state deleted, and two instances
split them. The timer rules themselves are covered by the unit tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC
from typing import get_args

import pytest

from connectors.topics import ESCROW_COMMANDS, ESCROW_REMINDERS
from kernel import mapping
from kernel.messages import (
    CancelEscrow,
    EscrowAwaitFunds,
    EscrowCancelled,
    EscrowCommandRejected,
    EscrowDelivered,
    EscrowReleased,
    EscrowTransferRequested,
    MarkDelivered,
    ReleaseFunds,
    TransferToSeller,
)
from tests.builders import (
    BUYER,
    SELLER,
    command_meta,
    create_escrow,
    random_escrow_id,
)
from tests.escrow_harness import EscrowHarness
from tests.eventually import eventually
from tests.http_fakes import free_port
from tests.integration.conftest import ProcessFactory
from tests.kafka import Tail
from tests.metrics import scrape
from topologies.scheduler.timers import FUNDING_TIMEOUT, SystemCommand, TimerKind

pytestmark = pytest.mark.integration

# The scheduler's first run reads the broker's whole history of escrow events.
CATCH_UP_S = 180


@pytest.fixture
def commands(bootstrap_servers: str) -> Iterator[Tail]:
    tail = Tail(bootstrap_servers, ESCROW_COMMANDS)
    yield tail
    tail.close()


def system_commands(tail: Tail, escrow_id: str, quiet_s: float = 2.0) -> list[object]:
    """The scheduler's commands to the escrow: once there is one, all that came ``quiet_s``
    later."""
    tail.wait_for(lambda _: bool(_from_scheduler(tail, escrow_id)))
    tail.drain(quiet_s)
    return _from_scheduler(tail, escrow_id)


def _from_scheduler(tail: Tail, escrow_id: str) -> list[object]:
    decoded = (mapping.COMMANDS.to_domain(e) for e in tail.envelopes(escrow_id))
    return [c for c in decoded if isinstance(c, get_args(SystemCommand))]


def cancelled_by_timeout(harness: EscrowHarness, escrow_id: str, timeout_s: float) -> None:
    event = harness.wait_event(escrow_id, EscrowCancelled, timeout_s)
    assert event.reason == FUNDING_TIMEOUT and event.cancelled_by.user_id == "scheduler"


def test_an_unfunded_escrow_is_reminded_then_cancelled_when_its_funding_deadline_passes(
    start_topology: ProcessFactory,
    escrow_harness: EscrowHarness,
    commands: Tail,
    bootstrap_servers: str,
) -> None:
    start_topology("escrow", FUNDING_TIMEOUT_S="6")
    start_topology("scheduler", REMINDER_BEFORE_S="3")
    reminders = Tail(bootstrap_servers, ESCROW_REMINDERS)
    escrow_id = random_escrow_id()

    escrow_harness.command(create_escrow(escrow_id))

    cancelled_by_timeout(escrow_harness, escrow_id, CATCH_UP_S)
    assert [type(c) for c in system_commands(commands, escrow_id)] == [CancelEscrow]
    reminders.wait_for(lambda _: bool(reminders.envelopes(escrow_id)))
    [reminder] = reminders.envelopes(escrow_id)
    awaiting = next(
        e for e in escrow_harness.events_of(escrow_id) if isinstance(e, EscrowAwaitFunds)
    )
    assert reminder.deadline_kind == TimerKind.FUNDING_TIMEOUT
    assert reminder.deadline.ToDatetime(tzinfo=UTC) == awaiting.funding_deadline
    reminders.close()


def test_a_silent_buyers_escrow_is_released_once_after_delivery(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness
) -> None:
    start_topology("escrow", AUTO_RELEASE_AFTER_S="4")
    start_topology("payments")
    start_topology("scheduler")
    escrow_id = random_escrow_id()
    escrow_harness.fund(escrow_id)

    escrow_harness.command(MarkDelivered(command_meta(escrow_id, SELLER)))

    released = escrow_harness.wait_event(escrow_id, EscrowReleased, CATCH_UP_S)
    assert released.transfer_id
    escrow_harness.payment_commands.drain(2)  # nothing more comes
    transfers = escrow_harness.payment_commands_of(escrow_id)
    assert sum(isinstance(c, TransferToSeller) for c in transfers) == 1
    events = escrow_harness.events_of(escrow_id)
    requested = [e.requested_by for e in events if isinstance(e, EscrowTransferRequested)]
    assert [actor.user_id for actor in requested] == ["scheduler"]


def test_a_buyers_release_racing_the_auto_release_ends_in_one_transfer(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness
) -> None:
    start_topology("escrow", AUTO_RELEASE_AFTER_S="3")
    start_topology("payments")
    start_topology("scheduler")
    escrow_id = random_escrow_id()
    escrow_harness.fund(escrow_id)
    escrow_harness.command(MarkDelivered(command_meta(escrow_id, SELLER)))
    delivered = escrow_harness.wait_event(escrow_id, EscrowDelivered)
    assert delivered.auto_release_at is not None

    time.sleep(max((delivered.auto_release_at - delivered.meta.occurred_at).total_seconds(), 0))
    escrow_harness.command(ReleaseFunds(command_meta(escrow_id, BUYER)))

    escrow_harness.wait_event(escrow_id, EscrowReleased, CATCH_UP_S)
    escrow_harness.events.drain(3)  # both releases decided
    escrow_harness.payment_commands.drain(1)
    events = escrow_harness.events_of(escrow_id)
    assert sum(isinstance(e, EscrowReleased) for e in events) == 1
    transfers = escrow_harness.payment_commands_of(escrow_id)
    assert sum(isinstance(c, TransferToSeller) for c in transfers) == 1


def test_timers_survive_a_crash_with_the_local_state_deleted_and_fire_once(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness, commands: Tail
) -> None:
    start_topology("escrow", FUNDING_TIMEOUT_S="25")
    port = free_port()
    scheduler = start_topology("scheduler", METRICS_PORT=str(port))
    escrow_ids = [random_escrow_id() for _ in range(10)]
    for escrow_id in escrow_ids:
        escrow_harness.command(create_escrow(escrow_id))
    eventually(
        lambda: scrape(port, "scheduler_timers_set_total", kind="FUNDING_TIMEOUT") >= 10,
        CATCH_UP_S,
        what="the scheduler set the ten funding timers",
    )
    time.sleep(1)  # and committed them

    scheduler.kill()
    shutil.rmtree(scheduler.state_dir)
    start_topology("scheduler", instance="b")

    for escrow_id in escrow_ids:
        cancelled_by_timeout(escrow_harness, escrow_id, CATCH_UP_S)
    escrow_harness.events.drain(2)
    for escrow_id in escrow_ids:
        assert len(system_commands(commands, escrow_id)) == 1
        events = escrow_harness.events_of(escrow_id)
        assert sum(isinstance(e, EscrowCancelled) for e in events) == 1
        assert not any(isinstance(e, EscrowCommandRejected) for e in events)


def test_two_instances_split_the_timers(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness, commands: Tail
) -> None:
    start_topology("escrow", FUNDING_TIMEOUT_S="20")
    ports = [free_port(), free_port()]
    for instance, port in zip("ab", ports, strict=True):
        start_topology("scheduler", instance=instance, METRICS_PORT=str(port))
    escrow_ids = [random_escrow_id() for _ in range(24)]

    for escrow_id in escrow_ids:
        escrow_harness.command(create_escrow(escrow_id))

    for escrow_id in escrow_ids:
        cancelled_by_timeout(escrow_harness, escrow_id, CATCH_UP_S)
    fired = [scrape(port, "scheduler_timers_fired_total", kind="FUNDING_TIMEOUT") for port in ports]
    assert all(count > 0 for count in fired), fired
    for escrow_id in escrow_ids:
        assert len(system_commands(commands, escrow_id)) == 1
