"""Properties of the ledger over random escrow lives driven through the real state machine.

The generator plays the world around the escrow topology: the parties' and the scheduler's
commands; the providers' reports (the escrow's own payment, at most once, as a card payment or
a deposit held for review; stray payments it cannot take; deposits screening sent straight
back; declines; chargebacks opened, won and lost; reversals of the seller's transfer); the
payments topology's answers to the payment commands the escrow emits (a synchronous answer
carries its command's timestamp, a later webhook its own); and verbatim redeliveries. Every
payment event and every escrow event ``decide`` emits is fed to the ledger.

Unlike ``tests/unit/topologies/escrow/test_properties.py``'s generator, a provider payment is
reported as arrived money at most once (a redelivery repeats the same event): the ledger knows
money by its provider payment id, and the escrow returns each *report* of a payment it cannot
take, so one payment reported twice under two event ids is returned twice, which the ledger
reports (``test_invariants.py``: a payment sent back twice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    CancelPayment,
    ChargebackClosed,
    ChargebackOpened,
    CommandMeta,
    CreatePaymentIntent,
    EscrowEvent,
    EscrowReleased,
    InitiateRefund,
    MarkDelivered,
    Message,
    PaymentCancelled,
    PaymentCommand,
    PaymentEvent,
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
    ReturnPayment,
    TransferFailed,
    TransferReversed,
    TransferSubmitted,
    TransferSucceeded,
    TransferToSeller,
)
from kernel.model import Actor, DisputeResolution, Escrow, EscrowStatus, Money
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
    payment_meta,
)
from tests.unit.topologies.ledger.support import ESCROW_ID, feed
from topologies.escrow.decide import decide
from topologies.ledger.model import NATURAL_SIGN, TAKEN, Account, Ledger, Transaction
from topologies.ledger.postings import DEPOSIT_RETURNED, Event

USDC_AMOUNT = Money(2_500_000, "USD")
actors = st.sampled_from([BUYER, SELLER, ADMIN, STRANGER, SCHEDULER])
metas = actors.map(lambda actor: command_meta(ESCROW_ID, actor))
commands: st.SearchStrategy[Message] = st.one_of(
    st.builds(create_escrow, amount=st.sampled_from([AMOUNT, USDC_AMOUNT])),
    st.builds(MarkDelivered, metas),
    st.builds(ReleaseFunds, metas),
    st.builds(CancelEscrow, metas, st.sampled_from(["", "a reason"])),
    st.builds(RaiseDispute, metas, st.just("a reason")),
    st.builds(ResolveDispute, metas, st.sampled_from(DisputeResolution)),
    st.builds(ApproveReview, metas),
    st.builds(RejectReview, metas),
)


@dataclass(frozen=True)
class Record:
    """A record the ledger reads, with its Kafka timestamp (the step that caused it)."""

    timestamp: int
    event: Event


@dataclass
class Waiting:
    """A payment command the payments topology has yet to answer (again)."""

    timestamp: int
    command: PaymentCommand
    answers: int = 0


@dataclass
class World:
    state: Escrow | None = None
    clock: datetime = NOW
    escrow_events: list[Record] = field(default_factory=list)
    payment_events: list[Record] = field(default_factory=list)
    causal: list[Event] = field(default_factory=list)  # each payment event, then what it caused
    decided: list[EscrowEvent] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    sent: list[PaymentEvent] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    ids: count[int] = field(default_factory=count)
    step: int = 0

    def amount(self) -> Money:
        return self.state.amount if self.state else AMOUNT


def live(data: st.DataObject, steps: int) -> World:
    world = World()
    for step in range(steps):
        world.step = step
        message, timestamp = _next(data, world, step) if step else (create_escrow(ESCROW_ID), 0)
        world.clock += timedelta(hours=data.draw(st.sampled_from([0, 1, 5, 80, 200])))
        decision = decide(world.state, message, world.clock)
        if not isinstance(message.meta, CommandMeta):
            world.payment_events.append(Record(timestamp, message))
            world.sent.append(message)
            world.causal.append(message)
        world.decided += decision.events
        for escrow_event in decision.events:
            world.escrow_events.append(Record(timestamp, escrow_event))
            world.causal.append(escrow_event)
        world.waiting += [Waiting(timestamp, c) for c in decision.payment_commands]
        world.state = decision.state
    return world


def _next(data: st.DataObject, world: World, step: int) -> tuple[Message, int]:
    """The next message and its record's timestamp."""
    choice = data.draw(st.sampled_from(list(_CHOICES)))
    made = _CHOICES[choice](data, world)
    if made is None:
        return data.draw(commands), step
    if isinstance(made, tuple):
        return made
    return made, step


def _funding(data: st.DataObject, world: World) -> Message | None:
    """The escrow's own payment, once: as paid by card or as a deposit held for review."""
    if PAYMENT_ID in world.reported:
        return None
    world.reported.add(PAYMENT_ID)
    amount = data.draw(st.sampled_from([world.amount()] * 3 + [Money(1, "USD")]))
    if data.draw(st.booleans()):
        return PaymentSucceeded(payment_meta(ESCROW_ID), PAYMENT_ID, amount)
    return PaymentHeldForReview(payment_meta(ESCROW_ID), PAYMENT_ID, amount, "0xabc", 65)


def _stray(data: st.DataObject, world: World) -> Message:
    amount = Money(data.draw(st.integers(1, 3_000_000)), "USD")
    payment_id = f"pi_stray_{next(world.ids)}"
    if data.draw(st.booleans()):
        return PaymentSucceeded(payment_meta(ESCROW_ID), payment_id, amount)
    return PaymentHeldForReview(payment_meta(ESCROW_ID), payment_id, amount, "0xdef", 70)


def _screened(data: st.DataObject, world: World) -> Message:
    code = data.draw(st.sampled_from(sorted(DEPOSIT_RETURNED)))
    return PaymentFailed(payment_meta(ESCROW_ID), f"dep_{next(world.ids)}", code, "returned")


def _provider_news(data: st.DataObject, world: World) -> Message:
    meta = payment_meta(ESCROW_ID)
    amount = world.amount()
    news: list[Message] = [
        PaymentFailed(meta, PAYMENT_ID, "card_declined"),
        ChargebackOpened(meta, PAYMENT_ID, "dp_1", amount, "fraudulent"),
        ChargebackClosed(meta, PAYMENT_ID, "dp_1", "won"),
        ChargebackClosed(meta, PAYMENT_ID, "dp_1", "lost"),
        TransferReversed(meta, "tr_1", amount),
    ]
    transfers = [e.transfer_id for e in world.decided if isinstance(e, EscrowReleased)]
    news += [  # the seller's payout reversed, in part or whole (a running total)
        TransferReversed(meta, transfer_id, Money(cents, amount.currency))
        for transfer_id in transfers
        for cents in (amount.amount_cents // 3, amount.amount_cents)
    ]
    return data.draw(st.sampled_from(news))


def _redelivery(data: st.DataObject, world: World) -> Message | None:
    return data.draw(st.sampled_from(world.sent)) if world.sent else None


def _answer(data: st.DataObject, world: World) -> tuple[Message, int] | None:
    """The payments topology answers a payment command: at its timestamp the first time (the
    provider call's answer), later by webhook."""
    if not world.waiting:
        return None
    return _reply(data, world, data.draw(st.sampled_from(world.waiting)))


def _reply(data: st.DataObject, world: World, waiting: Waiting) -> tuple[Message, int]:
    first = waiting.answers == 0
    waiting.answers += 1
    command, command_id = waiting.command, waiting.command.meta.command_id
    meta = payment_meta(ESCROW_ID, command_id)
    answer: Message
    again = False
    if isinstance(command, TransferToSeller | InitiateRefund):
        refund = isinstance(command, InitiateRefund)
        outcome = data.draw(
            st.sampled_from(["ok", "ok", "failed", "submitted"] if first else ["ok", "failed"])
        )
        answer = _payout(meta, refund, outcome, command.amount, command_id)
        again = outcome == "submitted"
    elif isinstance(command, ReturnPayment):
        failure = data.draw(st.sampled_from(["", "", "return_failed"]))
        answer = PaymentReturned(
            meta, command.provider_payment_id, f"ret_{command_id}", command.amount, "r", failure
        )
        again = waiting.answers < 3 and data.draw(st.booleans())  # webhooks confirm (or not)
    elif isinstance(command, CreatePaymentIntent):
        answer = PaymentIntentCreated(meta, command.rail, PAYMENT_ID, command.amount, "secret")
    else:
        assert isinstance(command, CancelPayment)
        answer = PaymentCancelled(meta, command.provider_payment_id)
    if not again:
        world.waiting.remove(waiting)
    return answer, (waiting.timestamp if first else world.step)


def _payout(meta: Any, refund: bool, outcome: str, amount: Money, command_id: str) -> Message:
    if outcome == "ok":
        kind: Any = RefundSucceeded if refund else TransferSucceeded
        return kind(meta, f"po_{command_id}", amount, command_id)  # type: ignore[no-any-return]
    if outcome == "submitted":
        kind = RefundSubmitted if refund else TransferSubmitted
        return kind(meta, f"po_{command_id}", amount, command_id)  # type: ignore[no-any-return]
    kind = RefundFailed if refund else TransferFailed
    return kind(meta, "bank_down", "", command_id)  # type: ignore[no-any-return]


def _move(data: st.DataObject, world: World) -> Message | tuple[Message, int] | None:
    """What the party whose turn it is would do: deliver, release, dispute, decide a dispute or
    a review, cancel (the random commands mostly get refused)."""
    status = world.state.status if world.state else None
    intents = [w for w in world.waiting if isinstance(w.command, CreatePaymentIntent)]
    if world.state is not None and world.state.payment_under_review:
        decisions: list[Message] = [ApproveReview(_as(ADMIN)), RejectReview(_as(ADMIN))]
        return data.draw(st.sampled_from(decisions))
    if status is EscrowStatus.AWAIT_FUNDS:  # the buyer pays, once there is a way to
        return _reply(data, world, intents[0]) if intents else _funding(data, world)
    moves: dict[EscrowStatus, list[Message]] = {
        EscrowStatus.FUNDS_HELD: [
            MarkDelivered(_as(SELLER)),
            MarkDelivered(_as(SELLER)),
            CancelEscrow(_as(SELLER), "out of stock"),
            RaiseDispute(_as(BUYER), "no news"),
        ],
        EscrowStatus.DELIVERED: [
            ReleaseFunds(_as(BUYER)),
            ReleaseFunds(_as(BUYER)),
            RaiseDispute(_as(BUYER), "broken"),
        ],
        EscrowStatus.DISPUTED: [
            ResolveDispute(_as(ADMIN), DisputeResolution.FAVOR_SELLER),
            ResolveDispute(_as(ADMIN), DisputeResolution.FAVOR_BUYER),
        ],
    }
    options = moves.get(status) if status else None
    return data.draw(st.sampled_from(options)) if options else None


def _as(actor: Actor) -> CommandMeta:
    return command_meta(ESCROW_ID, actor)


# Weighted: a life mostly moves on, with the odd surprise.
_CHOICES: dict[str, Callable[[st.DataObject, World], Any]] = {
    "move": _move,
    "move on": _move,
    "move along": _move,
    "command": lambda data, world: None,
    "answer": _answer,
    "answer again": _answer,
    "funding, maybe early": _funding,
    "stray": _stray,
    "screened": _screened,
    "provider news": _provider_news,
    "redelivery": _redelivery,
}


# --- what the ledger makes of a life -----------------------------------------------------------


def interleaved(data: st.DataObject, world: World) -> list[Event]:
    """The two topics as Quix's concat reads them: by head timestamp, ties either way."""
    escrow, payments = list(world.escrow_events), list(world.payment_events)
    merged: list[Event] = []
    while escrow or payments:
        if escrow and payments and escrow[0].timestamp == payments[0].timestamp:
            take_escrow = data.draw(st.booleans())
        else:
            take_escrow = bool(escrow) and (
                not payments or escrow[0].timestamp < payments[0].timestamp
            )
        merged.append((escrow if take_escrow else payments).pop(0).event)
    return merged


def assert_money_in_one_place(ledger: Ledger, escrow: Escrow | None) -> None:
    """Every cent the buyers and the platform put in is in one place, and the escrow's amount in
    the one its status says: held (with what chargebacks took from the hold), paid to the seller
    (with what was reversed), refunded, or (never taken) nowhere of those."""
    put_in = -ledger.balance(Account.BUYER_FUNDING) - ledger.balance(Account.PLATFORM_FUNDS)
    debits = [a for a in Account if NATURAL_SIGN[a] > 0]
    assert put_in == sum(ledger.balance(a) for a in debits)
    status = escrow.status if escrow else None
    amount = escrow.amount.amount_cents if escrow else 0
    place = _PLACE.get(status)  # type: ignore[arg-type]
    currency = escrow.amount.currency if escrow else "USD"
    taken = {
        Account.ESCROW_HOLDING: ledger.balance(Account.ESCROW_HOLDING)
        + ledger.taken_from_hold(currency),
        Account.SELLER_PAID: ledger.balance(Account.SELLER_PAID)
        + ledger.balance(Account.TRANSFERS_REVERSED),
        Account.BUYER_REFUNDED: ledger.balance(Account.BUYER_REFUNDED),
    }
    assert taken == {a: (amount if a is place else 0) for a in TAKEN}, (status, taken)
    assert ledger.status is status
    assert all(balance.natural >= 0 for balance in ledger.balances)


_PLACE = {
    EscrowStatus.FUNDS_HELD: Account.ESCROW_HOLDING,
    EscrowStatus.DELIVERED: Account.ESCROW_HOLDING,
    EscrowStatus.DISPUTED: Account.ESCROW_HOLDING,
    EscrowStatus.RELEASED: Account.SELLER_PAID,
    EscrowStatus.REFUNDED: Account.BUYER_REFUNDED,
}


def _signature(transactions: list[Transaction]) -> Counter[tuple[Any, ...]]:
    """What a transaction is, whichever event happened to post it."""
    return Counter(
        (t.transaction_id, t.kind, t.postings, t.provider_payment_id) for t in transactions
    )


STEPS = st.integers(3, 40)


@settings(max_examples=100, deadline=None)
@given(st.data(), STEPS)
def test_no_invariant_breaks_and_the_money_ends_in_one_place(
    data: st.DataObject, steps: int
) -> None:
    world = live(data, steps)

    fed = feed(world.causal)

    assert fed.violations == []
    assert all(sum(p.amount_cents for p in t.postings) == 0 for t in fed.transactions)
    assert_money_in_one_place(fed.ledger, world.state)


@settings(max_examples=100, deadline=None)
@given(st.data(), STEPS)
def test_however_the_topics_interleave_the_same_transactions_are_posted(
    data: st.DataObject, steps: int
) -> None:
    world = live(data, steps)

    in_order, interleaved_ = feed(world.causal), feed(interleaved(data, world))

    assert interleaved_.violations == []
    assert _signature(interleaved_.transactions) == _signature(in_order.transactions)
    assert set(interleaved_.ledger.balances) == set(in_order.ledger.balances)
    assert_money_in_one_place(interleaved_.ledger, world.state)


@settings(max_examples=50, deadline=None)
@given(st.data(), STEPS)
def test_every_record_delivered_twice_posts_nothing_more(data: st.DataObject, steps: int) -> None:
    world = live(data, steps)

    once = feed(world.causal)
    twice = feed([e for event in world.causal for e in (event, event)])

    assert twice.transactions == once.transactions and twice.violations == []
