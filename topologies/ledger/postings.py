"""``post(ledger, event) -> Posted``: the money an escrow or payment event moves, as balanced
double-entry transactions over the chart of accounts of ``model.py``. Pure.

| kind | caused by | debit | credit |
| --- | --- | --- | --- |
| ARRIVAL | the first event naming a payment [1] | FUNDING_IN_TRANSIT | BUYER_FUNDING |
| TAKE | EscrowFundsHeld | ESCROW_HOLDING | FUNDING_IN_TRANSIT |
| RETURN_REQUESTED | EscrowPaymentReturned; deposit returned [2] | RETURNS_PENDING | (same) |
| RETURN_SETTLED | PaymentReturned, no failure_code; [2] | RETURNED | RETURNS_PENDING [3] |
| RETURN_FAILED | PaymentReturned with a failure_code | FUNDING_IN_TRANSIT | (same) [4] |
| RELEASE | EscrowReleased | SELLER_PAID | ESCROW_HOLDING [5] |
| REFUND | EscrowRefunded | BUYER_REFUNDED | ESCROW_HOLDING [5] |
| CHARGEBACK_OPENED | EscrowChargebackOpened | CHARGEBACKS | ESCROW_HOLDING [6] |
| CHARGEBACK_WON | EscrowChargebackClosed, not "lost" | (its source [6]) | CHARGEBACKS |
| CHARGEBACK_LOST | EscrowChargebackClosed "lost" | CHARGEBACKS_LOST | CHARGEBACKS |
| TRANSFER_REVERSED | EscrowTransferReversed [7] | TRANSFERS_REVERSED | SELLER_PAID |

"(same)": RETURN_REQUESTED credits FUNDING_IN_TRANSIT, RETURN_FAILED credits RETURNS_PENDING.
[1] PaymentSucceeded, PaymentHeldForReview, a deposit returned [2], or EscrowFundsHeld /
EscrowPaymentReturned when they come first. [2] PaymentFailed with ``DEPOSIT_RETURNED_*``: a USDC
deposit the webhooks topology sent straight back after screening, so it arrives, is asked back
and is settled at once; the event has no amount, so the escrow's is used. [3] FUNDING_IN_TRANSIT
if the return had failed before. [4] RETURNED if the return had been reported settled: a
reversal. [5] and PLATFORM_FUNDS for what open or lost chargebacks took from the hold: the
platform pays out money the card network holds. [6] PLATFORM_FUNDS when the escrow does not hold
the money (not funded yet, paid out, or never taken): the card network takes it from the
platform. A win gives it back to where it came from, the hold only while that is still open.
[7] Stripe reports a transfer's reversals as a running total: the increase is posted, for a
transfer this ledger released. Nothing else moves money: a payout asked for, submitted or
failed leaves it held, and the payments topology's payout reports are what EscrowReleased /
EscrowRefunded say (a RELEASE or REFUND names the provider's payout: ``provider_object_id``,
what reconciliation matches).

Order. The ledger reads ``escrow.events.v1`` and ``payments.events.v1`` together, which Quix
aligns only by timestamp, and an event carries the timestamp of the record that caused it: an
escrow event can come before the payment event behind it, a provider's report on a return before
the escrow asked for the return. So an escrow event naming a payment not seen yet posts its
arrival itself (the arrival's id derives from the payment, so it is the same transaction
whichever event posts it), and a report on a return not asked for yet waits in the ledger
(``parked``) and is posted, under its own id, once the return is asked for.

Escrow events are the decisions the ledger audits: each is posted as it says, even when it
contradicts the ledger (a second EscrowReleased), and the invariants report it. Provider reports
are facts about one provider object, posted once per object: a payment arrives once however
often it is reported, a return settles (or fails) once per change of its outcome, a chargeback
opens once and closes once (a closing reported first is posted when it opens), a reversal total
is posted once. Chargebacks and reversals are read from the escrow's events, not the payment
events behind them, so they come in order with the escrow's status they depend on.

Ids: ``transaction_id = derive_id(escrow_id, "Ledger<KIND>", cause)``, the cause being the
causing event's id (for an arrival, the provider payment's id), so reprocessing yields the same
ids. An event applied before (same event id: a topic can hold copies, e.g. after a second
consumer group of the escrow topology re-emitted its events) posts nothing and sets no status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from kernel.evolve import STATUS_AFTER
from kernel.ids import derive_id
from kernel.messages import (
    EscrowAwaitFunds,
    EscrowChargebackClosed,
    EscrowChargebackOpened,
    EscrowCreated,
    EscrowEvent,
    EscrowFundsHeld,
    EscrowPaymentReturned,
    EscrowRefunded,
    EscrowReleased,
    EscrowTransferReversed,
    PaymentEvent,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentReturned,
    PaymentSucceeded,
)
from kernel.model import Money, Rail, route
from topologies.ledger.model import (
    HOLDING_STATUSES,
    Account,
    Balance,
    Cause,
    ChargebackOutcome,
    ChargebackRecord,
    Kind,
    Ledger,
    ParkedOutcome,
    PaymentRecord,
    Posting,
    ReturnStatus,
    Transaction,
    TransferRecord,
)

Event = EscrowEvent | PaymentEvent

# The failure codes of a USDC deposit the webhooks topology returned after screening it.
DEPOSIT_RETURNED = frozenset({"DEPOSIT_RETURNED_SANCTIONED", "DEPOSIT_RETURNED_HIGH_RISK"})
# How many applied event ids a ledger remembers (an escrow has a few dozen events at most).
SEEN_KEPT = 64


@dataclass(frozen=True)
class Posted:
    """The ledger after an event, and the transactions the event posted (in order)."""

    ledger: Ledger
    transactions: tuple[Transaction, ...] = ()


def cause(event: Event) -> Cause:
    meta = event.meta
    return Cause(meta.event_id, type(event).__name__, meta.occurred_at, meta.correlation_id)


def post(ledger: Ledger, event: Event) -> Posted:
    """The transactions ``event`` posts to ``ledger`` (``Ledger(escrow_id)`` for a new one)."""
    rule = _RULES.get(type(event))
    meaningless = rule is None and type(event) not in STATUS_AFTER
    if meaningless or event.meta.event_id in ledger.seen_event_ids:
        return Posted(ledger)
    book = _Book(_track(ledger, event), cause(event))
    if rule is not None:
        rule(book, event)
    # Remembered even when it changed nothing now: a copy of it later could (a status it set).
    seen = (*ledger.seen_event_ids, event.meta.event_id)[-SEEN_KEPT:]
    return Posted(replace(book.ledger, seen_event_ids=seen), tuple(book.transactions))


def _track(ledger: Ledger, event: Event) -> Ledger:
    """What the ledger follows of the escrow itself: amount, rail, status."""
    if isinstance(event, EscrowCreated | EscrowAwaitFunds):
        ledger = replace(ledger, amount=event.amount, rail=event.rail)
    status = STATUS_AFTER.get(type(event))
    return ledger if status is None else replace(ledger, status=status)


class _Book:
    """The ledger while one event is posted, and the transactions posted so far."""

    def __init__(self, ledger: Ledger, cause: Cause) -> None:
        self.ledger, self.cause = ledger, cause
        self.transactions: list[Transaction] = []

    def move(
        self,
        kind: Kind,
        money: Money,
        source: Account,
        target: Account,
        payment_id: str = "",
        cause: Cause | None = None,
        key: str = "",
        object_id: str = "",
    ) -> None:
        """Posts ``money`` from ``source`` to ``target``: debit the target, credit the source."""
        self.split(
            kind, money, target, ((source, money.amount_cents),), payment_id, cause, key, object_id
        )

    def split(
        self,
        kind: Kind,
        money: Money,
        target: Account,
        sources: tuple[tuple[Account, int], ...],
        payment_id: str = "",
        cause: Cause | None = None,
        key: str = "",
        object_id: str = "",
    ) -> None:
        """Debits ``target`` with ``money`` and credits each source its cents (they add up to
        ``money``); on the rail of the payment it names, else the escrow's. ``key``: what the
        transaction's id derives from (default: the cause's event id); ``object_id``: the
        provider's payout or object that moved it."""
        cause = cause or self.cause
        payment = self.ledger.payment(payment_id) if payment_id else None
        rail = payment.rail if payment is not None else self._rail(money)
        postings = (
            Posting(target, rail, money.amount_cents, money.currency),
            *(Posting(source, rail, -cents, money.currency) for source, cents in sources if cents),
        )
        escrow_id = self.ledger.escrow_id
        transaction_id = derive_id(escrow_id, f"Ledger{kind.name}", key or cause.event_id)
        self.transactions.append(
            Transaction(transaction_id, kind, escrow_id, cause, postings, payment_id, object_id)
        )
        self.ledger = replace(self.ledger, balances=_added(self.ledger.balances, postings))

    def _rail(self, money: Money) -> Rail:
        # An escrow the ledger has not seen created yet: the rail the amount would go to.
        return self.ledger.rail or route(money)

    def arrive(self, payment_id: str, money: Money) -> PaymentRecord:
        """The payment's record; its arrival posted first if it is new."""
        known = self.ledger.payment(payment_id)
        if known is not None:
            return known
        self.move(
            Kind.ARRIVAL,
            money,
            Account.BUYER_FUNDING,
            Account.FUNDING_IN_TRANSIT,
            payment_id,
            key=payment_id,
        )
        return self.keep(PaymentRecord(payment_id, money, self._rail(money)))

    def keep(self, payment: PaymentRecord) -> PaymentRecord:
        others = tuple(
            p for p in self.ledger.payments if p.provider_payment_id != payment.provider_payment_id
        )
        self.ledger = replace(self.ledger, payments=(*others, payment))
        return payment

    def take(self, payment_id: str, money: Money) -> None:
        payment = self.arrive(payment_id, money)
        self.move(Kind.TAKE, money, Account.FUNDING_IN_TRANSIT, Account.ESCROW_HOLDING, payment_id)
        self.keep(replace(payment, resolutions=payment.resolutions + 1))

    def request_return(self, payment_id: str, money: Money) -> None:
        """Asks for the payment to go back, then posts what the provider said of it already."""
        payment = self.arrive(payment_id, money)
        self.move(
            Kind.RETURN_REQUESTED,
            money,
            Account.FUNDING_IN_TRANSIT,
            Account.RETURNS_PENDING,
            payment_id,
        )
        # Asking again after a return failed resolves the money once still.
        again = 0 if payment.return_status is ReturnStatus.FAILED else 1
        self.keep(
            replace(
                payment,
                resolutions=payment.resolutions + again,
                return_status=ReturnStatus.PENDING,
            )
        )
        parked = [o for o in self.ledger.parked if o.provider_payment_id == payment_id]
        rest = tuple(o for o in self.ledger.parked if o.provider_payment_id != payment_id)
        self.ledger = replace(self.ledger, parked=rest)
        for outcome in parked:
            self.settle(payment_id, outcome.returned, outcome.cause)

    def settle(self, payment_id: str, returned: bool, cause: Cause) -> None:
        """The provider's outcome of a return asked for: the money went back, or it did not."""
        payment = self.ledger.payment(payment_id)
        if payment is None or payment.return_status is ReturnStatus.NONE:
            outcome = ParkedOutcome(payment_id, returned, cause)
            self.ledger = replace(self.ledger, parked=(*self.ledger.parked, outcome))
            return
        status, (kind, source, target) = payment.return_status, _OUTCOMES[returned]
        if status is _SETTLED_AS[returned]:
            return  # reported again
        if status is not ReturnStatus.PENDING:
            source = Account.FUNDING_IN_TRANSIT if returned else Account.RETURNED
        self.move(kind, payment.amount, source, target, payment_id, cause)
        self.keep(replace(payment, return_status=_SETTLED_AS[returned]))

    def resolve_hold(self, kind: Kind, money: Money, target: Account, payout_id: str) -> None:
        """Pays the hold out. What open or lost chargebacks took from it the platform puts in
        (``PLATFORM_FUNDS``); their outcome no longer concerns the hold."""
        held = self.ledger.balance(Account.ESCROW_HOLDING, money.currency)
        short = money.amount_cents - max(held, 0)
        fronted = max(0, min(short, self.ledger.taken_from_hold(money.currency)))
        sources = (
            (Account.ESCROW_HOLDING, money.amount_cents - fronted),
            (Account.PLATFORM_FUNDS, fronted),
        )
        self.split(kind, money, target, sources, object_id=payout_id)
        chargebacks = tuple(replace(c, on_hold=False) for c in self.ledger.chargebacks)
        self.ledger = replace(
            self.ledger,
            chargebacks=chargebacks,
            hold_resolutions=self.ledger.hold_resolutions + 1,
        )
        if kind is Kind.RELEASE:
            transfers = (*self.ledger.transfers, TransferRecord(payout_id, money))
            self.ledger = replace(self.ledger, transfers=transfers)

    def open_chargeback(self, dispute_id: str, money: Money) -> None:
        """The card network takes ``money`` back: from the hold while the escrow holds it,
        else from the platform's own funds. Posted once per dispute."""
        known = self.ledger.chargeback(dispute_id)
        if known is not None and known.amount is not None:
            return  # reported again
        on_hold = (
            self.ledger.status in HOLDING_STATUSES
            and self.ledger.balance(Account.ESCROW_HOLDING, money.currency) >= money.amount_cents
        )
        source = Account.ESCROW_HOLDING if on_hold else Account.PLATFORM_FUNDS
        self.move(Kind.CHARGEBACK_OPENED, money, source, Account.CHARGEBACKS, key=dispute_id)
        outcome = known.outcome if known is not None else ChargebackOutcome.NONE
        self._keep_chargeback(ChargebackRecord(dispute_id, money, on_hold))
        if outcome is not ChargebackOutcome.NONE:  # its closing came first
            self.close_chargeback(dispute_id, outcome)

    def close_chargeback(self, dispute_id: str, outcome: ChargebackOutcome) -> None:
        """Won: the money goes back where it came from (the hold if it is still open, else the
        platform's funds). Lost: it is gone for good. Posted once per dispute."""
        known = self.ledger.chargeback(dispute_id)
        if known is not None and known.outcome is not ChargebackOutcome.NONE:
            return  # a chargeback closes once
        if known is None or known.amount is None:  # posted when it is reported opened
            self._keep_chargeback(ChargebackRecord(dispute_id, outcome=outcome))
            return
        if outcome is ChargebackOutcome.LOST:
            kind, target = Kind.CHARGEBACK_LOST, Account.CHARGEBACKS_LOST
        else:
            kind = Kind.CHARGEBACK_WON
            target = Account.ESCROW_HOLDING if known.on_hold else Account.PLATFORM_FUNDS
        self.move(kind, known.amount, Account.CHARGEBACKS, target, key=dispute_id)
        self._keep_chargeback(replace(known, outcome=outcome))

    def _keep_chargeback(self, record: ChargebackRecord) -> None:
        others = tuple(c for c in self.ledger.chargebacks if c.dispute_id != record.dispute_id)
        self.ledger = replace(self.ledger, chargebacks=(*others, record))

    def reverse_transfer(self, transfer_id: str, reversed_so_far: Money) -> None:
        """The seller gives back what ``reversed_so_far`` (a running total, as Stripe reports
        it) adds to what was posted; a transfer the ledger did not post is not this escrow's
        payout (reconciliation compares payouts with the provider)."""
        transfer = self.ledger.transfer(transfer_id)
        if transfer is None:
            return
        more = reversed_so_far.amount_cents - transfer.reversed_cents
        if more <= 0:
            return  # reported again
        self.move(
            Kind.TRANSFER_REVERSED,
            Money(more, reversed_so_far.currency),
            Account.SELLER_PAID,
            Account.TRANSFERS_REVERSED,
            key=f"{transfer_id}/{reversed_so_far.amount_cents}",
            object_id=transfer_id,
        )
        others = tuple(t for t in self.ledger.transfers if t.transfer_id != transfer_id)
        reversed_ = replace(transfer, reversed_cents=reversed_so_far.amount_cents)
        self.ledger = replace(self.ledger, transfers=(*others, reversed_))


# returned? -> (kind, from a pending return, to); and the return's status after it.
_OUTCOMES = {
    True: (Kind.RETURN_SETTLED, Account.RETURNS_PENDING, Account.RETURNED),
    False: (Kind.RETURN_FAILED, Account.RETURNS_PENDING, Account.FUNDING_IN_TRANSIT),
}
_SETTLED_AS = {True: ReturnStatus.RETURNED, False: ReturnStatus.FAILED}


def _added(balances: Iterable[Balance], postings: Iterable[Posting]) -> tuple[Balance, ...]:
    totals = {(b.account, b.rail, b.currency): b.amount_cents for b in balances}
    for p in postings:
        key = (p.account, p.rail, p.currency)
        totals[key] = totals.get(key, 0) + p.amount_cents
    return tuple(Balance(a, r, c, amount) for (a, r, c), amount in totals.items())


# --- one rule per event type that moves money -------------------------------------------------


def _reported(book: _Book, event: PaymentSucceeded | PaymentHeldForReview) -> None:
    book.arrive(event.provider_payment_id, event.amount)


def _deposit_returned(book: _Book, event: PaymentFailed) -> None:
    if event.failure_code not in DEPOSIT_RETURNED:
        return  # no money moved
    known = book.ledger.payment(event.provider_payment_id)
    if known is not None and known.return_status is not ReturnStatus.NONE:
        return  # reported again
    amount = known.amount if known is not None else book.ledger.amount
    if amount is None:
        return  # an escrow the ledger does not know: no amount to post
    book.request_return(event.provider_payment_id, amount)
    book.settle(event.provider_payment_id, True, book.cause)


def _return_outcome(book: _Book, event: PaymentReturned) -> None:
    book.settle(event.provider_payment_id, not event.failure_code, book.cause)


_RULES: dict[type, Callable[[_Book, Any], None]] = {
    PaymentSucceeded: _reported,
    PaymentHeldForReview: _reported,
    PaymentFailed: _deposit_returned,
    PaymentReturned: _return_outcome,
    EscrowFundsHeld: lambda book, e: book.take(e.provider_payment_id, e.amount),
    EscrowPaymentReturned: lambda book, e: book.request_return(e.provider_payment_id, e.amount),
    EscrowReleased: lambda book, e: book.resolve_hold(
        Kind.RELEASE, e.amount, Account.SELLER_PAID, e.transfer_id
    ),
    EscrowRefunded: lambda book, e: book.resolve_hold(
        Kind.REFUND, e.amount, Account.BUYER_REFUNDED, e.refund_id
    ),
    EscrowChargebackOpened: lambda book, e: book.open_chargeback(e.dispute_id, e.amount),
    EscrowChargebackClosed: lambda book, e: book.close_chargeback(
        e.dispute_id, ChargebackOutcome.LOST if e.status == "lost" else ChargebackOutcome.WON
    ),
    EscrowTransferReversed: lambda book, e: book.reverse_transfer(e.transfer_id, e.amount),
}
