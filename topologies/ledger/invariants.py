"""``check(before, after, transactions, cause) -> violations``: the ledger's invariants, checked
on every event that posts or changes the escrow's status. Pure.

1. ``transaction_balanced``: each transaction's postings sum to zero per currency.
2. ``holding_matches_status``: ESCROW_HOLDING holds the escrow's amount (on its rail, in its
   currency), less what open or lost chargebacks took from it, while its funds are held
   (FUNDS_HELD, DELIVERED, DISPUTED; a payout under way included), and nothing otherwise
   (AWAIT_FUNDS, RELEASED, REFUNDED, CANCELLED).
3. ``resolved_at_most_once``: a hold is released or refunded at most once, and one provider
   payment is taken or sent back at most once (asking again after a failed return excepted).
4. ``no_negative_balance``: no balance crosses to the side opposite its account's natural one
   (``model.py``). That is impossible for every account of the chart: each debit account holds
   money that arrived and has not left it, and BUYER_FUNDING's credit is all that arrived; a
   crossing means money left a place it never reached.

A violation is reported by the event that breaks the invariant, not again by every later event
while it stays broken; its id derives from the escrow, the invariant, the event and what broke,
so reprocessing reports the same ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kernel.ids import derive_id
from kernel.model import EscrowStatus, Rail, route
from topologies.ledger.model import (
    HOLDING_STATUSES,
    Account,
    Cause,
    Ledger,
    Transaction,
)


@dataclass(frozen=True)
class UnbalancedTransaction:
    transaction_id: str
    currency: str
    sum_cents: int


@dataclass(frozen=True)
class HoldingMismatch:
    status: EscrowStatus
    rail: Rail
    currency: str
    expected_cents: int
    actual_cents: int


@dataclass(frozen=True)
class ResolvedTwice:
    subject: str  # "hold", or the provider payment id
    times: int


@dataclass(frozen=True)
class NegativeBalance:
    account: Account
    rail: Rail
    currency: str
    balance_cents: int  # on the account's natural side


Finding = UnbalancedTransaction | HoldingMismatch | ResolvedTwice | NegativeBalance

# The invariant each finding breaks: the metric label and the id's namespace.
INVARIANTS: dict[type, str] = {
    UnbalancedTransaction: "transaction_balanced",
    HoldingMismatch: "holding_matches_status",
    ResolvedTwice: "resolved_at_most_once",
    NegativeBalance: "no_negative_balance",
}
HOLD = "hold"


@dataclass(frozen=True)
class Violation:
    violation_id: str
    escrow_id: str
    cause: Cause
    detail: str
    finding: Finding

    @property
    def invariant(self) -> str:
        return INVARIANTS[type(self.finding)]


def check(
    before: Ledger, after: Ledger, transactions: Sequence[Transaction], cause: Cause
) -> tuple[Violation, ...]:
    """What the event (``cause``) that took ``before`` to ``after`` by posting ``transactions``
    broke."""
    findings: list[Finding] = [
        *unbalanced(transactions),
        *holding_mismatches(before, after, transactions),
        *resolved_twice(before, after),
        *negative_balances(after, transactions),
    ]
    return tuple(_violation(after.escrow_id, cause, f) for f in findings)


def unbalanced(transactions: Sequence[Transaction]) -> list[UnbalancedTransaction]:
    found = []
    for transaction in transactions:
        sums: dict[str, int] = {}
        for p in transaction.postings:
            sums[p.currency] = sums.get(p.currency, 0) + p.amount_cents
        found += [
            UnbalancedTransaction(transaction.transaction_id, currency, total)
            for currency, total in sums.items()
            if total != 0
        ]
    return found


def holding_mismatches(
    before: Ledger, after: Ledger, transactions: Sequence[Transaction]
) -> list[HoldingMismatch]:
    touched = any(p.account is Account.ESCROW_HOLDING for t in transactions for p in t.postings)
    status, amount = after.status, after.amount
    if status is None or amount is None or (status is before.status and not touched):
        return []
    rail = after.rail or route(amount)
    held = status in HOLDING_STATUSES
    currency = amount.currency
    expected = {(rail, currency): amount.amount_cents - after.taken_from_hold(currency)}
    expected = {key: cents for key, cents in expected.items() if held and cents}
    actual = {
        (b.rail, b.currency): b.amount_cents
        for b in after.balances
        if b.account is Account.ESCROW_HOLDING
    }
    found = []
    for key in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(key, 0), actual.get(key, 0)
        if want != got:
            found.append(HoldingMismatch(status, key[0], key[1], want, got))
    return found


def resolved_twice(before: Ledger, after: Ledger) -> list[ResolvedTwice]:
    found = []
    if after.hold_resolutions > max(before.hold_resolutions, 1):
        found.append(ResolvedTwice(HOLD, after.hold_resolutions))
    for payment in after.payments:
        earlier = before.payment(payment.provider_payment_id)
        times = earlier.resolutions if earlier is not None else 0
        if payment.resolutions > max(times, 1):
            found.append(ResolvedTwice(payment.provider_payment_id, payment.resolutions))
    return found


def negative_balances(after: Ledger, transactions: Sequence[Transaction]) -> list[NegativeBalance]:
    touched = {(p.account, p.rail, p.currency) for t in transactions for p in t.postings}
    return [
        NegativeBalance(b.account, b.rail, b.currency, b.natural)
        for b in after.balances
        if (b.account, b.rail, b.currency) in touched and b.natural < 0
    ]


def _violation(escrow_id: str, cause: Cause, finding: Finding) -> Violation:
    invariant = INVARIANTS[type(finding)]
    subject, detail = _describe(finding)
    violation_id = derive_id(
        escrow_id, f"LedgerViolation/{invariant}", f"{cause.event_id}/{subject}"
    )
    return Violation(violation_id, escrow_id, cause, detail, finding)


def _describe(finding: Finding) -> tuple[str, str]:
    """What broke (for the id) and a sentence for people."""
    match finding:
        case UnbalancedTransaction(transaction_id, currency, total):
            return (
                f"{transaction_id}/{currency}",
                f"transaction {transaction_id} sums to {total} {currency} cents, not 0",
            )
        case HoldingMismatch(status, rail, currency, expected, actual):
            return (
                f"{rail.name}/{currency}",
                f"holding on {rail.name} is {actual} {currency} cents in {status.name}, "
                f"expected {expected}",
            )
        case ResolvedTwice(subject, times):
            what = "the hold" if subject == HOLD else f"payment {subject}"
            return subject, f"{what} was resolved {times} times"
        case NegativeBalance(account, rail, currency, balance):
            return (
                f"{account.name}/{rail.name}/{currency}",
                f"{account.name} on {rail.name} is {balance} {currency} cents on its natural side",
            )
