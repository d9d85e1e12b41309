"""In-memory fakes of the gateway's ports (``gateway.ports``), for unit tests of the HTTP gateway
without a broker: ``create_app(settings, FakePublisher(), FakeViews(...), auth, FakeLedger())``.

``FakePublisher`` keeps what the routes published in ``.sent`` and can refuse the next record;
``FakeViews`` is the materialized view table as a dict that a test fills with ``put``. They
implement the real ports (no ``mock.patch``), so mypy holds them to the same signatures as
``KafkaPublisher`` and ``ViewTable``.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import Message

from gateway.ports import Ledger, Publisher, PublishError, Views
from schemas.escrow.v1.views_pb2 import EscrowView, ReviewStatus
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from state_stores import view_indexes
from state_stores.ledger_table import Balance
from state_stores.view_indexes import Listing


class FakePublisher(Publisher):
    """Acknowledges every record at once, unless ``fail_with`` is set: then the next publish
    raises it (once) and stores nothing, as a broker that did not acknowledge."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Message]] = []
        self.fail_with: PublishError | None = None
        self.closed = False

    async def publish(self, topic: str, key: str, envelope: Message) -> None:
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        self.sent.append((topic, key, envelope))

    def close(self) -> None:
        self.closed = True


class FakeViews(Listing, Views):
    """The view table as a dict of ``EscrowView`` by escrow id, caught up (``ready``) unless a
    test says otherwise. Like the real table it hands out copies, so a route cannot change what
    is stored."""

    def __init__(self, *views: EscrowView, ready: bool = True, lag: int = 0) -> None:
        self._views: dict[str, EscrowView] = {}
        self._ready = ready
        self.view_lag = lag
        self.started = False
        self.stopped = False
        for view in views:
            self.put(view)

    def put(self, view: EscrowView) -> None:
        self._views[view.escrow_id] = _copy(view)

    @property
    def ready(self) -> bool:
        return self._ready

    @ready.setter
    def ready(self, value: bool) -> None:
        self._ready = value

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def lag(self) -> int:
        return self.view_lag

    def get(self, escrow_id: str) -> EscrowView | None:
        view = self._views.get(escrow_id)
        return None if view is None else _copy(view)

    def escrow_of_contract(self, contract_id: str) -> str | None:
        return next(
            (v.escrow_id for v in self._views.values() if v.contract_id == contract_id), None
        )

    def pending_reviews(self, limit: int) -> list[EscrowView]:
        pending = [
            v for v in self._views.values() if v.review.status == ReviewStatus.REVIEW_STATUS_PENDING
        ]
        pending.sort(key=lambda v: (v.review.held_at.ToNanoseconds(), v.escrow_id))
        return [_copy(v) for v in pending[:limit]]

    def _keys_from(self, key: str) -> Iterator[str]:
        keys = (k for view in self._views.values() for k in view_indexes.keys_of(view))
        return iter(sorted(k for k in keys if k >= key))


def _copy(view: EscrowView) -> EscrowView:
    copied = EscrowView()
    copied.CopyFrom(view)
    return copied


class FakeLedger(Ledger):
    """The ledger table as lists: ``balances`` and postings by escrow, set by a test."""

    def __init__(self, balances: list[Balance] | None = None) -> None:
        self.held: list[Balance] = list(balances or [])
        self.lines: dict[str, list[LedgerPosting]] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def balances(self) -> list[Balance]:
        return list(self.held)

    def postings(self, escrow_id: str) -> list[LedgerPosting]:
        return list(self.lines.get(escrow_id, []))
