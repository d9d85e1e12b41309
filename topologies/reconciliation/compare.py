"""The daily reconciliation's comparison (seeds: "Reconciliation"; DESIGN.md §2
``reconciliation.discrepancies.v1``), pure: the money a provider says it moved against the money
the ledger says it moved, per provider object.

A payment received and a return are matched by the provider payment, a transfer and a refund by
the provider's payout id (what ``ledger.postings.v1`` names: ``state_stores.ledger_table``). Only
settled provider objects count as money moved; one the ledger names that the provider has not
settled (unknown, pending, failed) is missing at the provider. A settled object newer than
``until`` that the ledger lacks is not reported yet: the ledger may not have heard of it.
Discrepancy ids derive from the rail, the kind and the object, so a pass that finds the same
mismatch again names it alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from connectors.payment_rail import Movement, ProviderObject, Status
from kernel.ids import derive_id
from kernel.model import Money, Rail
from state_stores.ledger_table import Moved

Key = tuple[Movement, str]


class Kind(IntEnum):
    """``reconciliation.v1.DiscrepancyKind``."""

    MISSING_AT_PROVIDER = 1
    MISSING_IN_LEDGER = 2
    AMOUNT_MISMATCH = 3
    CURRENCY_MISMATCH = 4
    DUPLICATE = 5


@dataclass(frozen=True)
class Discrepancy:
    """One mismatch (``reconciliation.v1.ReconciliationDiscrepancy``); amounts in cents."""

    discrepancy_id: str
    rail: Rail
    kind: Kind
    movement: Movement
    provider_object_id: str
    escrow_id: str
    provider_amount: Money | None
    ledger_amount: Money | None
    ledger_transaction_ids: tuple[str, ...]
    provider_object_ids: tuple[str, ...]
    detail: str


def key_of(found: ProviderObject) -> Key:
    """How a provider object is matched to the ledger."""
    by_payment = found.movement in (Movement.PAYMENT, Movement.RETURN)
    return found.movement, found.provider_payment_id if by_payment else found.provider_id


def compare(
    rail: Rail, provider: Iterable[ProviderObject], ledger: Iterable[Moved], until: datetime
) -> list[Discrepancy]:
    """Every mismatch between ``provider``'s objects (any status) and ``ledger``'s movements on
    ``rail`` (each transaction once however often given), in key order."""
    objects: dict[Key, list[ProviderObject]] = defaultdict(list)
    for found in provider:
        objects[key_of(found)].append(found)
    moved: dict[Key, dict[str, Moved]] = defaultdict(dict)
    for entry in ledger:
        moved[(entry.movement, entry.provider_object_id)][entry.transaction_id] = entry
    discrepancies = []
    for key in sorted(objects.keys() | moved.keys()):
        settled = [o for o in objects.get(key, []) if o.status is Status.SUCCEEDED]
        entries = list(moved.get(key, {}).values())
        discrepancies += _mismatches(rail, key, settled, entries, objects.get(key, []), until)
    return discrepancies + _paid_twice(rail, [o for os in objects.values() for o in os])


def _mismatches(
    rail: Rail,
    key: Key,
    settled: Sequence[ProviderObject],
    entries: Sequence[Moved],
    known: Sequence[ProviderObject],
    until: datetime,
) -> list[Discrepancy]:
    report = _Reporter(rail, key, settled, entries)
    if not settled and entries:
        statuses = ", ".join(sorted({o.status.value for o in known})) or "unknown"
        return [report(Kind.MISSING_AT_PROVIDER, f"the provider has it {statuses}")]
    if not entries:
        late = all(o.created > until for o in settled)
        return [] if not settled or late else [report(Kind.MISSING_IN_LEDGER, "not in the ledger")]
    found = []
    if len(settled) > 1:
        found.append(report(Kind.DUPLICATE, f"{len(settled)} provider objects, one movement"))
    if len(entries) > 1:
        found.append(report(Kind.DUPLICATE, f"in {len(entries)} ledger transactions"))
    provider, booked = settled[0], entries[0]
    if provider.currency != booked.currency:
        found.append(report(Kind.CURRENCY_MISMATCH, f"{provider.currency} != {booked.currency}"))
    elif provider.amount_cents != booked.amount_cents:
        detail = f"provider {provider.amount_cents} != ledger {booked.amount_cents} cents"
        found.append(report(Kind.AMOUNT_MISMATCH, detail))
    return found


def _paid_twice(rail: Rail, objects: Iterable[ProviderObject]) -> list[Discrepancy]:
    """An escrow is paid out once: two settled transfers (or refunds) for one escrow are a
    duplicate, whatever the ledger says."""
    payouts: dict[tuple[Movement, str], list[ProviderObject]] = defaultdict(list)
    for payout in objects:
        is_payout = payout.movement in (Movement.TRANSFER, Movement.REFUND)
        if is_payout and payout.escrow_id and payout.status is Status.SUCCEEDED:
            payouts[(payout.movement, payout.escrow_id)].append(payout)
    found = []
    for (movement, escrow_id), paid in sorted(payouts.items()):
        if len(paid) > 1:
            key = (movement, f"escrow {escrow_id}")
            report = _Reporter(rail, key, sorted(paid, key=lambda o: o.provider_id), [])
            found.append(report(Kind.DUPLICATE, f"{len(paid)} {movement}s for escrow {escrow_id}"))
    return found


class _Reporter:
    """Builds the discrepancies of one key from what both sides hold."""

    def __init__(
        self, rail: Rail, key: Key, settled: Sequence[ProviderObject], entries: Sequence[Moved]
    ) -> None:
        self.rail, self.key, self.settled, self.entries = rail, key, settled, entries

    def __call__(self, kind: Kind, detail: str) -> Discrepancy:
        movement, object_id = self.key
        cause = f"{self.rail.name}/{movement}/{object_id}"
        escrow_id = next((o.escrow_id for o in self.settled), "") or next(
            (e.escrow_id for e in self.entries), ""
        )
        provider = self.settled[0] if self.settled else None
        booked = self.entries[0] if self.entries else None
        return Discrepancy(
            derive_id(escrow_id, f"Reconciliation{kind.name}", cause),
            self.rail,
            kind,
            movement,
            object_id,
            escrow_id,
            Money(provider.amount_cents, provider.currency) if provider else None,
            Money(booked.amount_cents, booked.currency) if booked else None,
            tuple(sorted(e.transaction_id for e in self.entries)),
            tuple(o.provider_id for o in self.settled),
            f"{movement} {object_id}: {detail}",
        )
