"""Which timers an escrow has, and what each sends when it is due (DESIGN.md §1 "scheduler", §4;
seeds: 003 §4.15, 000 "Error Scenarios"). Pure: the scheduler's store and clock are elsewhere.

The deadlines come from the escrow's own events, stamped by ``decide`` under its policy
(``EscrowAwaitFunds.funding_deadline``, ``EscrowDelivered.auto_release_at``,
``Escrow{Transfer,Refund}Failed.retry_at``), so the scheduler has no policy of its own and never
disagrees with the escrow topology about when something is due. That topology still checks the
time and the state when the command arrives: a timer racing a buyer's release is refused there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum

from kernel.evolve import STATUS_AFTER
from kernel.ids import derive_id
from kernel.messages import (
    CancelEscrow,
    CommandMeta,
    EscrowAwaitFunds,
    EscrowDelivered,
    EscrowEvent,
    EscrowRefundFailed,
    EscrowRefundRequested,
    EscrowTransferFailed,
    EscrowTransferRequested,
    ReleaseFunds,
    RetryPayout,
)
from kernel.model import TERMINAL, Actor, EscrowStatus, Role

# The reasons the system's commands give (seeds: 003 §4.15).
FUNDING_TIMEOUT = "FUNDING_TIMEOUT"
AUTO_RELEASE = "AUTO_RELEASE"
SCHEDULER = Actor("scheduler", Role.SYSTEM)


class TimerKind(IntEnum):
    """The numbers of ``scheduler.v1.TimerKind``."""

    FUNDING_TIMEOUT = 1
    AUTO_RELEASE = 2
    PAYOUT_RETRY = 3
    FUNDING_REMINDER = 4
    AUTO_RELEASE_REMINDER = 5


# Each deadline's reminder.
REMINDER_OF = {
    TimerKind.FUNDING_TIMEOUT: TimerKind.FUNDING_REMINDER,
    TimerKind.AUTO_RELEASE: TimerKind.AUTO_RELEASE_REMINDER,
}
DEADLINE_OF = {reminder: deadline for deadline, reminder in REMINDER_OF.items()}


@dataclass(frozen=True)
class Timer:
    """A timer of one escrow (schemas: scheduler.v1.Timer); at most one per kind."""

    escrow_id: str
    kind: TimerKind
    due_at: datetime
    # PAYOUT_RETRY: the failed payouts so far, so each retry is its own command.
    attempt: int = 0
    correlation_id: str = ""
    # A reminder's: the deadline it announces.
    deadline: datetime | None = None


@dataclass(frozen=True)
class DeadlineReminder:
    """A deadline is near (schemas: scheduler.v1.DeadlineReminder), for the notifications."""

    reminder_id: str
    escrow_id: str
    deadline_kind: TimerKind
    deadline: datetime
    sent_at: datetime
    correlation_id: str = ""


Timers = Mapping[TimerKind, Timer]
SystemCommand = CancelEscrow | ReleaseFunds | RetryPayout


def timers_after(
    event: EscrowEvent, timers: Timers, reminder_before: timedelta
) -> dict[TimerKind, Timer]:
    """The escrow's timers once ``event`` happened: a clock it starts is set (or moved), with its
    reminder ``reminder_before`` the deadline unless that moment has passed; a clock it makes
    pointless is cancelled with its reminder; the others stay."""
    after = dict(timers)
    status = STATUS_AFTER.get(type(event))
    paying = isinstance(event, EscrowTransferRequested | EscrowRefundRequested)
    if status is not None and status is not EscrowStatus.AWAIT_FUNDS:
        _cancel(after, TimerKind.FUNDING_TIMEOUT)
    if (status is not None and status is not EscrowStatus.DELIVERED) or paying:
        # Disputed, or the money is already on its way: nothing left to auto-release.
        _cancel(after, TimerKind.AUTO_RELEASE)
    if status in TERMINAL or paying:
        after.pop(TimerKind.PAYOUT_RETRY, None)  # paid out, or retried already (by an admin)
    started = _started(event)
    if started is not None:
        after[started.kind] = started
        reminder = _reminder(started, reminder_before, event.meta.occurred_at)
        if reminder is not None:
            after[reminder.kind] = reminder
    return after


def _cancel(timers: dict[TimerKind, Timer], deadline: TimerKind) -> None:
    timers.pop(deadline, None)
    timers.pop(REMINDER_OF[deadline], None)


def _reminder(deadline: Timer, before: timedelta, now: datetime) -> Timer | None:
    kind = REMINDER_OF.get(deadline.kind)
    due = deadline.due_at - before
    if kind is None or due <= now:
        return None
    return replace(deadline, kind=kind, due_at=due, deadline=deadline.due_at)


def _started(event: EscrowEvent) -> Timer | None:
    meta = event.meta
    if isinstance(event, EscrowAwaitFunds) and event.funding_deadline is not None:
        due, kind, attempt = event.funding_deadline, TimerKind.FUNDING_TIMEOUT, 0
    elif isinstance(event, EscrowDelivered) and event.auto_release_at is not None:
        due, kind, attempt = event.auto_release_at, TimerKind.AUTO_RELEASE, 0
    elif isinstance(event, EscrowTransferFailed | EscrowRefundFailed) and event.retry_at:
        due, kind, attempt = event.retry_at, TimerKind.PAYOUT_RETRY, event.attempts
    else:
        return None
    return Timer(meta.escrow_id, kind, due, attempt, meta.correlation_id)


def fire(timer: Timer, now: datetime) -> SystemCommand | DeadlineReminder:
    """What a due timer sends at ``now``: the system command of a deadline, or a reminder. Its id
    derives from the escrow and the timer, so a timer fired twice (a crash before the commit) is
    one command to the escrow, one reminder to the notifications."""
    cause = f"{timer.due_at.isoformat()}/{timer.attempt}"
    message_id = derive_id(timer.escrow_id, f"timer/{timer.kind.name}", cause)
    if timer.kind in DEADLINE_OF:
        return DeadlineReminder(
            message_id,
            timer.escrow_id,
            DEADLINE_OF[timer.kind],
            timer.deadline or timer.due_at,
            now,
            timer.correlation_id,
        )
    meta = CommandMeta(
        message_id, timer.escrow_id, SCHEDULER, now, correlation_id=timer.correlation_id
    )
    if timer.kind is TimerKind.FUNDING_TIMEOUT:
        return CancelEscrow(meta, FUNDING_TIMEOUT)
    if timer.kind is TimerKind.AUTO_RELEASE:
        return ReleaseFunds(meta, AUTO_RELEASE)
    return RetryPayout(meta)
