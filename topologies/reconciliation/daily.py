"""The daily reconciliation pass (seeds: "Reconciliation"): one provider's records since a time
against the ledger's (``compare``), reading only what moved in that window and the few older
records either side names."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from connectors.exceptions import PermanentError
from connectors.payment_rail import Movement, PaymentRail, ProviderObject
from connectors.retry import with_retries
from kernel.model import Rail
from state_stores.ledger_table import Moved
from topologies.reconciliation.compare import Discrepancy, Key, compare, key_of
from topologies.reconciliation.hourly import ask


class MovedLedger(Protocol):
    def moved_since(self, since: datetime) -> list[Moved]: ...

    def moved_by(self, movement: Movement, provider_object_id: str) -> list[Moved]: ...


def daily_pass(
    rail: Rail,
    provider: PaymentRail,
    ledger: MovedLedger,
    since: datetime,
    until: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Discrepancy]:
    """The mismatches between what ``provider`` (the provider of ``rail``) made since ``since``
    and what the ledger recorded since then, plus: the ledger's older records of the provider's
    objects (a duplicate posted before the window) and the provider's older objects the ledger
    names (a payment made before the window). Objects newer than ``until`` may be missing from
    the ledger without a report.

    :raises TransientError | PermanentError: the provider's records could not be read (retried
        first): no pass is better than one that reports what it could not see as missing.
    """
    objects = with_retries(lambda: list(provider.records_since(since)), sleep)
    booked = [m for m in ledger.moved_since(since) if m.rail is rail]
    booked += [m for o in objects for m in ledger.moved_by(*key_of(o)) if m.rail is rail]
    listed = {key_of(o) for o in objects}
    unlisted = {(m.movement, m.provider_object_id) for m in booked} - listed
    objects += _looked_up(provider, unlisted, sleep)
    return compare(rail, objects, booked, until)


def _looked_up(
    provider: PaymentRail, keys: Iterable[Key], sleep: Callable[[float], None]
) -> list[ProviderObject]:
    """The provider's objects the ledger names but the listing lacks; the unknown ones left out.
    Returns are named by their payment, which the provider cannot look up: the listing must
    hold them."""
    found = []
    for movement, object_id in sorted(keys):
        if movement is Movement.RETURN:
            continue
        try:
            found.append(with_retries(_asking(provider, movement, object_id), sleep))
        except PermanentError:
            continue  # unknown to the provider: missing there
    return found


def _asking(
    provider: PaymentRail, movement: Movement, object_id: str
) -> Callable[[], ProviderObject]:
    return lambda: ask(provider, movement, object_id)
