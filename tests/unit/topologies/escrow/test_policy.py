"""The policy's clocks in the state machine: the deadlines ``decide`` stamps on the events that
start them, the system commands it accepts only once they are due, and payout retries with
backoff (seeds: 003 §4.15, 000 "Retry Configuration")."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from kernel.messages import (
    CancelEscrow,
    EscrowAwaitFunds,
    EscrowCancelled,
    EscrowDelivered,
    EscrowTransferFailed,
    MarkDelivered,
    PaymentHeldForReview,
    ReleaseFunds,
    RetryPayout,
    TransferFailed,
    TransferToSeller,
)
from kernel.model import DEFAULT_POLICY, Escrow, EscrowStatus, Policy, Reason
from tests.builders import (
    BUYER,
    NOW,
    PAYMENT_ID,
    SCHEDULER,
    SELLER,
    command_meta,
    create_escrow,
    escrow_in,
    payment_meta,
    payment_succeeded,
)
from topologies.escrow.decide import decide

S = EscrowStatus
# Periods as the tests and the demo configure them.
SHORT = Policy(
    funding_timeout=timedelta(seconds=30),
    auto_release_after=timedelta(seconds=20),
    payout_retry_initial=timedelta(seconds=2),
    payout_retry_max=timedelta(seconds=5),
    max_payout_failures=4,
)
SECOND = timedelta(seconds=1)


def test_creation_stamps_the_funding_deadline_of_the_policy() -> None:
    decision = decide(None, create_escrow(), NOW, SHORT)

    awaiting = decision.events[1]
    assert isinstance(awaiting, EscrowAwaitFunds)
    assert awaiting.funding_deadline == NOW + SHORT.funding_timeout
    assert (
        decision.state is not None and decision.state.funding_deadline == awaiting.funding_deadline
    )


def test_the_funding_timeout_is_refused_a_second_early_and_applied_on_time() -> None:
    state = decide(None, create_escrow(), NOW, SHORT).state
    cancel = CancelEscrow(command_meta(actor=SCHEDULER), "FUNDING_TIMEOUT")
    deadline = NOW + SHORT.funding_timeout

    early = decide(state, cancel, deadline - SECOND, SHORT)
    on_time = decide(state, cancel, deadline, SHORT)

    assert early.rejection is not None and early.rejection.reason is Reason.TIMEOUT_NOT_REACHED
    assert isinstance(on_time.events[-1], EscrowCancelled)


def test_a_deadline_once_stamped_holds_when_the_policy_changes() -> None:
    """An escrow keeps the deadline it was promised: a longer policy later does not delay it."""
    state = decide(None, create_escrow(), NOW, SHORT).state
    cancel = CancelEscrow(command_meta(actor=SCHEDULER), "FUNDING_TIMEOUT")

    decision = decide(state, cancel, NOW + SHORT.funding_timeout, DEFAULT_POLICY)

    assert decision.rejection is None


def test_delivery_stamps_the_auto_release_time_and_the_system_releases_then() -> None:
    funded = escrow_in(S.FUNDS_HELD)
    delivered = decide(funded, MarkDelivered(command_meta(actor=SELLER)), NOW, SHORT)
    [event] = delivered.events
    assert isinstance(event, EscrowDelivered) and event.auto_release_at == NOW + SECOND * 20
    release = ReleaseFunds(command_meta(actor=SCHEDULER), "AUTO_RELEASE")

    early = decide(delivered.state, release, NOW + SECOND * 19, SHORT)
    on_time = decide(delivered.state, release, NOW + SECOND * 20, SHORT)

    assert early.rejection is not None and early.rejection.reason is Reason.TIMEOUT_NOT_REACHED
    assert isinstance(on_time.payment_commands[0], TransferToSeller)


def test_the_buyer_releases_without_waiting_for_the_clock() -> None:
    delivered = decide(escrow_in(S.FUNDS_HELD), MarkDelivered(command_meta(actor=SELLER)), NOW)

    decision = decide(delivered.state, ReleaseFunds(command_meta(actor=BUYER)), NOW, SHORT)

    assert isinstance(decision.payment_commands[0], TransferToSeller)


def _fail_transfer(
    state: Escrow | None, at: timedelta
) -> tuple[Escrow | None, EscrowTransferFailed]:
    assert state is not None
    outcome = TransferFailed(payment_meta(causation_id=state.pending_transfer_command_id), "down")
    decision = decide(state, outcome, NOW + at, SHORT)
    event = decision.events[0]
    assert isinstance(event, EscrowTransferFailed)
    return decision.state, event


def test_failed_payouts_are_retried_with_doubling_delays_until_exhausted() -> None:
    state = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW).state
    retry_at = []
    for attempt in range(1, SHORT.max_payout_failures + 1):
        state, failed = _fail_transfer(state, timedelta(0))
        assert failed.attempts == attempt
        retry_at.append(failed.retry_at)
        if failed.retry_at is not None:
            retry = RetryPayout(command_meta(actor=SCHEDULER))
            state = decide(state, retry, failed.retry_at, SHORT).state

    assert retry_at == [NOW + SECOND * 2, NOW + SECOND * 4, NOW + SECOND * 5, None]


def test_the_scheduler_retries_a_failed_payout_as_a_new_attempt() -> None:
    state = decide(escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=BUYER)), NOW).state
    assert state is not None
    first = state.pending_transfer_command_id
    state, _ = _fail_transfer(state, timedelta(0))

    decision = decide(state, RetryPayout(command_meta(actor=SCHEDULER)), NOW, SHORT)

    [transfer] = decision.payment_commands
    assert isinstance(transfer, TransferToSeller) and transfer.meta.command_id != first


def test_the_funding_payment_reported_again_under_another_event_id_changes_nothing() -> None:
    """Reconciliation recovered a lost webhook; the provider then delivered it after all."""
    funded = escrow_in(S.FUNDS_HELD)

    again = decide(funded, payment_succeeded(payment_id=PAYMENT_ID), NOW)

    assert again.events == () and again.payment_commands == () and again.state == funded


def test_a_deposit_in_review_reported_again_changes_nothing() -> None:
    awaiting = escrow_in(S.AWAIT_FUNDS)
    held = PaymentHeldForReview(payment_meta(), PAYMENT_ID, awaiting.amount, "0xabc", 60)
    in_review = decide(awaiting, held, NOW).state

    again = decide(in_review, replace(held, meta=payment_meta()), NOW)

    assert again.events == () and again.state == in_review
