"""``decide(state, message, now) -> Decision``: the escrow state machine (DESIGN.md §4).

Pure: no clock (``now`` is an argument), no randomness (ids derive from their cause), no I/O.
Every message first passes the guards every message of its family passes (``guards.py``), in the
seeds' order ("State Machine Guards"): the escrow exists, the party may send it
(``kernel.permissions``), it was not processed already (idempotency), the expected version
matches, the state allows it, no payout is under way (commands) or it answers the payout under
way (payout outcomes). Then one handler per message type applies its own rules and builds its
events: ``on_commands.py`` (the parties', admins' and scheduler's commands) and
``on_payment_events.py`` (the payments topology's events), with ``payment_commands.py`` for what
they ask the payments topology to do and ``decision.py`` for the building blocks. A refusal is a
value: an ``EscrowCommandRejected`` event and nothing else. The new state is the old one with
the emitted events folded in through ``evolve``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    ChargebackClosed,
    ChargebackOpened,
    CreateEscrow,
    MarkDelivered,
    Message,
    PaymentCancelled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentIntentCreated,
    PaymentReturned,
    PaymentSucceeded,
    RaiseDispute,
    RefundFailed,
    RefundSubmitted,
    RefundSucceeded,
    RejectReview,
    ReleaseFunds,
    ResolveDispute,
    RetryPayout,
    TransferFailed,
    TransferReversed,
    TransferSubmitted,
    TransferSucceeded,
)
from kernel.model import DEFAULT_POLICY, Escrow, Policy, Reason
from topologies.escrow.decision import Decision, is_command, refuse
from topologies.escrow.guards import Duplicate, Rejection, admit_command, admit_event
from topologies.escrow.on_commands import (
    approve_review,
    cancel_escrow,
    create_escrow,
    mark_delivered,
    raise_dispute,
    reject_review,
    release_funds,
    resolve_dispute,
    retry_payout,
)
from topologies.escrow.on_payment_events import (
    chargeback_closed,
    chargeback_opened,
    compensated,
    held_for_review,
    payment_failed,
    payment_intent_created,
    payment_succeeded,
    refund_failed,
    refund_submitted,
    refund_succeeded,
    transfer_failed,
    transfer_reversed,
    transfer_submitted,
    transfer_succeeded,
)


def decide(
    state: Escrow | None, message: Message, now: datetime, policy: Policy = DEFAULT_POLICY
) -> Decision:
    """Applies one command or payment event to an escrow (None: not created yet) at ``now`` (the
    message's record time), under ``policy`` (the deadlines and payout retries it sets).

    Implements the transition table of DESIGN.md §4 (seeds: State Machine quick reference,
    sprint tasks 4.5-4.15). Never raises for business refusals; see ``kernel.model.Reason``.
    """
    if isinstance(message, CreateEscrow):
        return create_escrow(state, message, now, policy)
    if state is None:
        return refuse(None, message, now, Rejection(Reason.ESCROW_NOT_FOUND, "no such escrow"))
    refusal = admit_command(state, message) if is_command(message) else admit_event(state, message)
    if isinstance(refusal, Duplicate):
        return Decision(state)
    if refusal is not None:
        return refuse(state, message, now, refusal)
    timed = _TIMED_HANDLERS.get(type(message))
    if timed is not None:
        return timed(state, message, now, policy)
    return _HANDLERS[type(message)](state, message, now)


# The handlers whose rules depend on the policy's clocks.
_TIMED_HANDLERS: dict[type, Callable[[Escrow, Any, datetime, Policy], Decision]] = {
    MarkDelivered: mark_delivered,
    ReleaseFunds: release_funds,
    CancelEscrow: cancel_escrow,
    TransferFailed: transfer_failed,
    RefundFailed: refund_failed,
}
_HANDLERS: dict[type, Callable[[Escrow, Any, datetime], Decision]] = {
    RaiseDispute: raise_dispute,
    ResolveDispute: resolve_dispute,
    PaymentIntentCreated: payment_intent_created,
    PaymentSucceeded: payment_succeeded,
    PaymentFailed: payment_failed,
    PaymentHeldForReview: held_for_review,
    TransferSucceeded: transfer_succeeded,
    RefundSucceeded: refund_succeeded,
    ApproveReview: approve_review,
    RejectReview: reject_review,
    RetryPayout: retry_payout,
    TransferSubmitted: transfer_submitted,
    RefundSubmitted: refund_submitted,
    PaymentReturned: compensated,
    PaymentCancelled: compensated,
    ChargebackOpened: chargeback_opened,
    ChargebackClosed: chargeback_closed,
    TransferReversed: transfer_reversed,
}
