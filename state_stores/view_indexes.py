"""The keys the view table keeps to list escrows without scanning it, and how a page is read from
them (issue: read models). Pure.

- Each party's escrows, newest first (``GET /api/escrows``):
  ``party/<user>/<role>/<status or *>/<newest first>/<escrow_id>`` for the buyer and the seller;
  ``<newest first>`` is the escrow's creation time (µs since the epoch) subtracted from
  10^20 - 1, zero-padded, and ``<user>`` is percent-encoded, so no user id reaches into
  another's keys. An escrow's place in its parties' ``*`` lists never changes (its creation time
  does not), so pages read through them have no gaps and no repeats while views change.
- The admins' queues, longest unchanged first (``GET /api/admin/escrows``, ``/api/admin/queues``):
  ``queue/status/<STATUS>/<updated at>/<escrow_id>`` for every escrow, and
  ``queue/payouts-failing/<updated at>/<escrow_id>`` while the escrow's last event is a failed
  transfer or refund (retried later by the scheduler, or waiting for an admin).

A status list gains and loses escrows as they move; a page is read strictly after the position
the last one ended at, so an escrow is never shown twice in one walk.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice, takewhile
from urllib.parse import quote

from google.protobuf.timestamp_pb2 import Timestamp

from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView

PARTY_PREFIX = "party/"
QUEUE_PREFIX = "queue/"
ANY_STATUS = "*"
_LATEST = 10**20 - 1
# The events after which a payout waits to be asked for again.
PAYOUT_FAILED = ("EscrowTransferFailed", "EscrowRefundFailed")


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


class Queue(StrEnum):
    STATUS = "status"
    PAYOUTS_FAILING = "payouts-failing"


@dataclass(frozen=True)
class Page:
    """Escrow ids in order, and the position to read on from (None: this was the last page)."""

    escrow_ids: list[str]
    after: str | None


def keys_of(view: EscrowView) -> list[str]:
    """The view's keys in its parties' lists and in the admins' queues."""
    order = f"{_LATEST - micros(view.created_at):020d}/{view.escrow_id}"
    status = status_name(view.status)
    keys = []
    for role, user in ((Role.BUYER, view.buyer_id), (Role.SELLER, view.seller_id)):
        if user:
            keys += [f"{prefix(user, role, None)}{order}", f"{prefix(user, role, status)}{order}"]
    since = f"{micros(view.updated_at):020d}/{view.escrow_id}"
    keys.append(f"{queue_prefix(Queue.STATUS, status)}{since}")
    if view.history and view.history[-1].event_type in PAYOUT_FAILED:
        keys.append(f"{queue_prefix(Queue.PAYOUTS_FAILING)}{since}")
    return keys


def prefix(user_id: str, role: Role, status: str | None) -> str:
    """The keys of ``user_id``'s escrows as ``role``, in ``status`` (an ``EscrowStatus`` name
    without its prefix; None: any)."""
    return f"{PARTY_PREFIX}{quote(user_id, safe='')}/{role}/{status or ANY_STATUS}/"


def queue_prefix(queue: Queue, status: str = "") -> str:
    """The keys of an admins' queue (``status``: which, for ``Queue.STATUS``)."""
    return f"{QUEUE_PREFIX}{queue}/{status + '/' if status else ''}"


def status_name(status: EscrowStatus.ValueType) -> str:
    """``ESCROW_STATUS_DISPUTED`` -> ``DISPUTED``."""
    return EscrowStatus.Name(status).removeprefix("ESCROW_STATUS_")


def suffixes(keys: Iterable[str], start: str) -> Iterator[str]:
    """What follows ``start`` in each of the sorted ``keys`` that begin with it, until the first
    that does not."""
    for key in keys:
        if not key.startswith(start):
            return
        yield key[len(start) :]


def page(
    positions: Iterable[Iterator[str]], after: str, limit: int, until: str | None = None
) -> Page:
    """Up to ``limit`` escrows from sorted streams of positions (``<order>/<escrow_id>``, one
    stream per list read), merged in order, strictly after the position ``after`` ("" for the
    first page) and before ``until`` (None: to the end)."""
    merged: Iterator[str] = (p for p in heapq.merge(*positions) if p > after)
    if until is not None:
        merged = takewhile(lambda p: p < until, merged)
    taken = list(islice(merged, limit + 1))
    shown = taken[:limit]
    return Page(
        [p.rsplit("/", 1)[1] for p in shown],
        shown[-1] if len(taken) > limit else None,
    )


class Listing:
    """Lists escrows from a table's index keys: the view table, and the tests' fake of it."""

    def _keys_from(self, key: str) -> Iterable[str]:
        """The table's keys from ``key`` on, sorted."""
        raise NotImplementedError

    def escrows_of(
        self, user_id: str, roles: Iterable[Role], status: str | None, after: str, limit: int
    ) -> Page:
        """Up to ``limit`` of ``user_id``'s escrows as any of ``roles``, in ``status`` (None:
        any), newest first, after the position ``after`` ("" for the first page); costs
        O(limit) keys, not a scan."""
        starts = [prefix(user_id, role, status) for role in roles]
        return page([suffixes(self._keys_from(s + after), s) for s in starts], after, limit)

    def queue(
        self, queue: Queue, status: str, changed_before: int | None, after: str, limit: int
    ) -> Page:
        """Up to ``limit`` escrows of an admins' queue (``status``: which, for
        ``Queue.STATUS``), unchanged since before ``changed_before`` (µs since the epoch; None:
        any), the longest unchanged first, after the position ``after``."""
        start = queue_prefix(queue, status)
        until = None if changed_before is None else f"{changed_before:020d}/"
        return page([suffixes(self._keys_from(start + after), start)], after, limit, until)


def micros(at: Timestamp) -> int:
    """A ``Timestamp`` in µs since the epoch."""
    return int(at.seconds) * 1_000_000 + int(at.nanos) // 1000
