"""Properties of the state machine over random sequences of commands and payment events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.evolve import evolve, fold
from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    ChargebackOpened,
    EscrowChargebackClosed,
    EscrowChargebackOpened,
    EscrowCommandRejected,
    EscrowEvent,
    EscrowFundsHeld,
    EscrowPaymentReturned,
    EscrowRefunded,
    EscrowReleased,
    EscrowTransferReversed,
    InitiateRefund,
    MarkDelivered,
    Message,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentSucceeded,
    RaiseDispute,
    RefundFailed,
    RefundSucceeded,
    RejectReview,
    ReleaseFunds,
    ResolveDispute,
    RetryPayout,
    ReturnPayment,
    TransferFailed,
    TransferSucceeded,
    TransferToSeller,
)
from kernel.model import TERMINAL, DisputeResolution, Escrow, Money
from tests.builders import (
    ADMIN,
    AMOUNT,
    BUYER,
    NOW,
    PAYMENT_ID,
    SCHEDULER,
    SELLER,
    STRANGER,
    command_meta,
    create_escrow,
    payment_intent_created,
    payment_meta,
    payment_succeeded,
)
from topologies.escrow.decide import decide
from topologies.escrow.decision import Decision
from topologies.projections.project import project

actors = st.sampled_from([BUYER, SELLER, ADMIN, STRANGER, SCHEDULER])
reasons = st.sampled_from(["", "a reason"])


def _payout_cause(state: Escrow | None, matching: bool) -> str:
    pending = state.pending_transfer_command_id or state.pending_refund_command_id if state else ""
    return pending if matching and pending else "unrelated-command"


def messages(state: Escrow | None) -> st.SearchStrategy[Message]:
    """Any next message, valid or not, with payout outcomes usually naming the pending payout."""
    cause = st.booleans().map(lambda matching: _payout_cause(state, matching))
    meta = actors.map(lambda a: command_meta(actor=a))
    return st.one_of(
        st.just(create_escrow()),
        st.builds(MarkDelivered, meta),
        st.builds(ReleaseFunds, meta),
        st.builds(CancelEscrow, meta, reasons),
        st.builds(RaiseDispute, meta, reasons),
        st.builds(ResolveDispute, meta, st.sampled_from(DisputeResolution)),
        st.builds(ApproveReview, meta),
        st.builds(RejectReview, meta),
        st.builds(RetryPayout, meta),
        st.builds(lambda: PaymentHeldForReview(payment_meta(), PAYMENT_ID, AMOUNT, "0xabc", 60)),
        st.builds(lambda: ChargebackOpened(payment_meta(), PAYMENT_ID, "dp_1", AMOUNT, "fraud")),
        st.just(payment_intent_created()),
        st.builds(
            payment_succeeded,
            payment_id=st.sampled_from([PAYMENT_ID, "pi_other"]),
            amount=st.sampled_from([AMOUNT, Money(1, "USD")]),
        ),
        st.builds(lambda: PaymentFailed(payment_meta(), PAYMENT_ID, "card_declined")),
        cause.map(lambda c: TransferSucceeded(payment_meta(causation_id=c), "tr_1", AMOUNT)),
        cause.map(lambda c: TransferFailed(payment_meta(causation_id=c), "bank_down")),
        cause.map(lambda c: RefundSucceeded(payment_meta(causation_id=c), "re_1", AMOUNT)),
        cause.map(lambda c: RefundFailed(payment_meta(causation_id=c), "bank_down")),
    )


@dataclass
class Run:
    """What a sequence of messages did, step by step."""

    states: list[Escrow | None] = field(default_factory=lambda: [None])
    messages: list[Message] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    events: list[EscrowEvent] = field(default_factory=list)
    outstanding_payouts: list[int] = field(default_factory=list)


def run(data: st.DataObject, steps: int) -> Run:
    result = Run()
    state: Escrow | None = None
    outstanding: set[str] = set()
    clock = NOW
    for _ in range(steps):
        message = data.draw(messages(state))
        clock += timedelta(hours=data.draw(st.integers(0, 200)))
        decision = decide(state, message, clock)
        for command in decision.payment_commands:
            if isinstance(command, TransferToSeller | InitiateRefund):
                outstanding.add(command.meta.command_id)
        if decision.rejection is None and isinstance(
            message, TransferSucceeded | TransferFailed | RefundSucceeded | RefundFailed
        ):
            outstanding.discard(message.meta.causation_id)
        result.outstanding_payouts.append(len(outstanding))
        result.messages.append(message)
        result.decisions.append(decision)
        result.events.extend(decision.events)
        state = decision.state
        result.states.append(state)
    return result


STEPS = st.integers(1, 30)
# What a finished escrow may still record: money returned, chargebacks, reversals.
AFTER_THE_FACT = (
    EscrowPaymentReturned,
    EscrowChargebackOpened,
    EscrowChargebackClosed,
    EscrowTransferReversed,
)


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_terminal_states_only_record_what_providers_report(data: st.DataObject, steps: int) -> None:
    result = run(data, steps)
    for before, after, decision in zip(
        result.states[:-1], result.states[1:], result.decisions, strict=True
    ):
        if before is not None and before.status in TERMINAL:
            assert after is not None and after.status is before.status
            records = [e for e in decision.events if isinstance(e, AFTER_THE_FACT)]
            assert after.version == before.version + len(records)


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_no_payment_is_dropped(data: st.DataObject, steps: int) -> None:
    """Money that arrives is held, or is the funding payment again, or goes back once."""
    result = run(data, steps)
    steps_taken = zip(result.states[:-1], result.messages, result.decisions, strict=True)
    for before, message, decision in steps_taken:
        if before is None or not isinstance(message, PaymentSucceeded):
            continue
        assert decision.rejection is None
        held = any(isinstance(e, EscrowFundsHeld) for e in decision.events)
        returned = [c for c in decision.payment_commands if isinstance(c, ReturnPayment)]
        again = decision.events == () and message.provider_payment_id == before.provider_payment_id
        assert held or len(returned) == 1 or again


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_an_escrow_is_never_both_released_and_refunded(data: st.DataObject, steps: int) -> None:
    kinds = {type(e) for e in run(data, steps).events}
    assert not {EscrowReleased, EscrowRefunded} <= kinds


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_at_most_one_transfer_or_refund_is_outstanding(data: st.DataObject, steps: int) -> None:
    result = run(data, steps)
    assert all(n <= 1 for n in result.outstanding_payouts)
    for state in result.states:
        assert not (state and state.pending_transfer_command_id and state.pending_refund_command_id)


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_version_increases_by_one_per_applied_event(data: st.DataObject, steps: int) -> None:
    result = run(data, steps)
    applied = [e for e in result.events if not isinstance(e, EscrowCommandRejected)]
    assert [e.meta.version for e in applied] == list(range(1, len(applied) + 1))
    final = result.states[-1]
    assert (final.version if final else 0) == len(applied)


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_replaying_the_emitted_events_rebuilds_the_stored_state(
    data: st.DataObject, steps: int
) -> None:
    result = run(data, steps)
    assert fold(result.events) == result.states[-1]


@settings(max_examples=60, deadline=None)
@given(st.data(), STEPS)
def test_the_projected_status_is_always_the_folded_status(data: st.DataObject, steps: int) -> None:
    state: Escrow | None = None
    view = None
    for event in run(data, steps).events:
        state, view = evolve(state, event), project(view, event)
        if state is not None:
            assert view is not None and view.status == int(state.status)
