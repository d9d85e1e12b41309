"""Which timers each escrow event sets, moves or cancels, and what a due timer sends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from kernel.messages import (
    CancelEscrow,
    MarkDelivered,
    Message,
    RaiseDispute,
    ReleaseFunds,
    RetryPayout,
    TransferFailed,
)
from kernel.model import Policy
from tests.builders import (
    BUYER,
    NOW,
    SELLER,
    command_meta,
    create_escrow,
    payment_intent_created,
    payment_meta,
    payment_succeeded,
    story_events,
)
from topologies.scheduler.timers import (
    AUTO_RELEASE,
    FUNDING_TIMEOUT,
    DeadlineReminder,
    Timer,
    TimerKind,
    fire,
    timers_after,
)

POLICY = Policy(
    funding_timeout=timedelta(seconds=30),
    auto_release_after=timedelta(seconds=20),
    payout_retry_initial=timedelta(seconds=2),
    max_payout_failures=2,
)
FUNDED: list[Message] = [create_escrow(), payment_intent_created(), payment_succeeded()]
DELIVERED: list[Message] = [*FUNDED, MarkDelivered(command_meta(actor=SELLER))]


REMINDER_BEFORE = timedelta(seconds=10)
K = TimerKind


def timers_of(
    messages: Sequence[Message], reminder_before: timedelta = REMINDER_BEFORE
) -> dict[TimerKind, Timer]:
    """The escrow's timers after ``messages``, as the scheduler would hold them."""
    timers: dict[TimerKind, Timer] = {}
    for event in story_events(messages, POLICY):
        timers = timers_after(event, timers, reminder_before)
    return timers


def test_creation_sets_the_funding_timeout_at_the_deadline_and_its_reminder_before() -> None:
    timers = timers_of([create_escrow()])

    deadline = NOW + POLICY.funding_timeout
    assert sorted(timers) == [K.FUNDING_TIMEOUT, K.FUNDING_REMINDER]
    assert timers[K.FUNDING_TIMEOUT].due_at == deadline
    reminder = timers[K.FUNDING_REMINDER]
    assert (reminder.due_at, reminder.deadline) == (deadline - REMINDER_BEFORE, deadline)


def test_no_reminder_when_the_deadline_is_nearer_than_the_reminders_lead() -> None:
    assert sorted(timers_of([create_escrow()], timedelta(minutes=1))) == [K.FUNDING_TIMEOUT]


def test_funding_cancels_the_funding_timeout() -> None:
    assert timers_of(FUNDED) == {}


def test_a_buyers_cancel_cancels_the_funding_timeout() -> None:
    assert timers_of([create_escrow(), CancelEscrow(command_meta(actor=BUYER), "no")]) == {}


def test_delivery_sets_the_auto_release_and_its_reminder() -> None:
    timers = timers_of(DELIVERED)

    assert sorted(timers) == [K.AUTO_RELEASE, K.AUTO_RELEASE_REMINDER]
    assert timers[K.AUTO_RELEASE].due_at == NOW + POLICY.auto_release_after


@pytest.mark.parametrize(
    "then",
    [RaiseDispute(command_meta(actor=BUYER), "broken"), ReleaseFunds(command_meta(actor=BUYER))],
    ids=["disputed", "released by the buyer"],
)
def test_a_dispute_or_a_release_cancels_the_auto_release_and_its_reminder(then: Message) -> None:
    assert timers_of([*DELIVERED, then]) == {}


def test_a_failed_payout_sets_a_retry_until_failures_are_exhausted() -> None:
    failed_once = [
        *DELIVERED,
        ReleaseFunds(command_meta(actor=BUYER)),
        TransferFailed(payment_meta(), "x"),
    ]

    [retry] = timers_of(failed_once).values()
    retried = fire(retry, NOW)
    assert isinstance(retried, RetryPayout)
    failed_twice = [*failed_once, retried, TransferFailed(payment_meta(), "x")]

    assert (retry.kind, retry.attempt) == (TimerKind.PAYOUT_RETRY, 1)
    assert retry.due_at == NOW + POLICY.payout_retry_initial
    assert timers_of(failed_twice) == {}  # the last allowed failure: an admin decides


def test_each_timer_sends_its_system_command_with_an_id_derived_from_the_timer() -> None:
    due = NOW + timedelta(hours=1)
    funding = Timer("esc-1", TimerKind.FUNDING_TIMEOUT, due, correlation_id="corr-9")
    release = Timer("esc-1", TimerKind.AUTO_RELEASE, due)
    retry = Timer("esc-1", TimerKind.PAYOUT_RETRY, due, attempt=2)

    cancel, auto, again = (fire(t, due) for t in (funding, release, retry))

    assert isinstance(cancel, CancelEscrow) and cancel.reason == FUNDING_TIMEOUT
    assert isinstance(auto, ReleaseFunds) and auto.reason == AUTO_RELEASE
    assert isinstance(again, RetryPayout)
    assert cancel.meta.correlation_id == "corr-9" and cancel.meta.actor.role.name == "SYSTEM"
    later = fire(funding, due + timedelta(seconds=5))
    assert isinstance(later, CancelEscrow) and later.meta.command_id == cancel.meta.command_id
    assert len({c.meta.command_id for c in (cancel, auto, again)}) == 3


def test_a_reminder_announces_its_deadline_with_an_id_derived_from_the_timer() -> None:
    deadline = NOW + timedelta(days=7)
    timer = Timer("esc-1", K.AUTO_RELEASE_REMINDER, deadline - timedelta(days=1), deadline=deadline)

    sent = fire(timer, timer.due_at)

    assert isinstance(sent, DeadlineReminder)
    assert (sent.deadline_kind, sent.deadline, sent.escrow_id) == (
        K.AUTO_RELEASE,
        deadline,
        "esc-1",
    )
    assert fire(timer, deadline).reminder_id == sent.reminder_id  # type: ignore[union-attr]
