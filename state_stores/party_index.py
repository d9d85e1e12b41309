"""The escrows of each party, newest first (issue: read models, "my escrows"): the keys the view
table keeps for them and how a page is read from those keys. Pure.

Keys: ``party/<user>/<role>/<status or *>/<newest first>/<escrow_id>`` for the buyer and the
seller of every view; ``<newest first>`` is the escrow's creation time (µs since the epoch)
subtracted from 10^20 - 1, zero-padded, so keys sort newest first, and ``<user>`` is
percent-encoded, so no user id reaches into another's keys. An escrow's place in its parties'
``*`` lists never changes (its creation time does not), so pages read through them have no gaps
and no repeats while views change; a status list gains and loses escrows as they move.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from urllib.parse import quote

from google.protobuf.timestamp_pb2 import Timestamp

from schemas.escrow.v1.types_pb2 import EscrowStatus
from schemas.escrow.v1.views_pb2 import EscrowView

PARTY_PREFIX = "party/"
ANY_STATUS = "*"
_LATEST = 10**20 - 1


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


@dataclass(frozen=True)
class Page:
    """Escrow ids in order, and the position to read on from (None: this was the last page)."""

    escrow_ids: list[str]
    after: str | None


def keys_of(view: EscrowView) -> list[str]:
    """The view's keys in its buyer's and seller's lists: all their escrows, and by status."""
    order = position(view)
    status = EscrowStatus.Name(view.status).removeprefix("ESCROW_STATUS_")
    keys = []
    for role, user in ((Role.BUYER, view.buyer_id), (Role.SELLER, view.seller_id)):
        if user:
            keys += [f"{prefix(user, role, None)}{order}", f"{prefix(user, role, status)}{order}"]
    return keys


def position(view: EscrowView) -> str:
    """Where the view stands in its parties' lists: ``<newest first>/<escrow_id>``."""
    return f"{_LATEST - _micros(view.created_at):020d}/{view.escrow_id}"


def prefix(user_id: str, role: Role, status: str | None) -> str:
    """The keys of ``user_id``'s escrows as ``role``, in ``status`` (an ``EscrowStatus`` name
    without its prefix; None: any)."""
    return f"{PARTY_PREFIX}{quote(user_id, safe='')}/{role}/{status or ANY_STATUS}/"


def page(positions: Iterable[Iterator[str]], after: str, limit: int) -> Page:
    """Up to ``limit`` escrows from sorted streams of positions (one per role), merged in
    order, strictly after the position ``after`` ("" for the first page).

    :param positions: each stream sorted, starting at or after ``after``."""
    merged = (p for p in heapq.merge(*positions) if p > after)
    taken = list(islice(merged, limit + 1))
    shown = taken[:limit]
    return Page(
        [p.rsplit("/", 1)[1] for p in shown],
        shown[-1] if len(taken) > limit else None,
    )


def _micros(at: Timestamp) -> int:
    return int(at.seconds) * 1_000_000 + int(at.nanos) // 1000
