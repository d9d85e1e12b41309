"""The gateway's ports (what the routes need from the outside world) and typed accessors for
them: a route calls ``publisher(request)``, never the untyped ``request.app.state``.

Production wires ``KafkaPublisher``, ``state_stores.view_table.ViewTable`` and
``state_stores.ledger_table.LedgerTable`` in ``app.main``; unit tests pass the fakes of
``tests.fakes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, cast

from google.protobuf.message import Message
from starlette.requests import Request

from schemas.escrow.v1.views_pb2 import EscrowView
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from state_stores.ledger_table import Balance
from state_stores.view_indexes import Page, Queue, Role

if TYPE_CHECKING:
    from gateway.auth import Authenticator
    from gateway.rate_limit import MutationLimits
    from gateway.settings import GatewaySettings


class PublishError(Exception):
    """The broker did not acknowledge the record."""


class Publisher(Protocol):
    async def publish(self, topic: str, key: str, envelope: Message) -> None:
        """Returns once the broker acknowledged the record.

        :raises PublishError: refused or not acknowledged in time.
        """
        ...

    def close(self) -> None: ...


class Views(Protocol):
    """The materialized table of ``escrow.views.v1``."""

    @property
    def ready(self) -> bool:
        """Every partition has been read to its end once."""
        ...

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def lag(self) -> int:
        """Records not yet in the table, over all partitions."""
        ...

    def get(self, escrow_id: str) -> EscrowView | None: ...
    def escrow_of_contract(self, contract_id: str) -> str | None: ...
    def pending_reviews(self, limit: int) -> list[EscrowView]:
        """Escrows whose deposit waits for review, the longest waiting first."""
        ...

    def escrows_of(
        self, user_id: str, roles: Iterable[Role], status: str | None, after: str, limit: int
    ) -> Page:
        """A page of the user's escrows, newest first (``view_indexes.Listing``)."""
        ...

    def queue(
        self, queue: Queue, status: str, changed_before: int | None, after: str, limit: int
    ) -> Page:
        """A page of an admins' queue, the longest unchanged first (``view_indexes.Listing``)."""
        ...


class Ledger(Protocol):
    """The materialized table of ``ledger.postings.v1``."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def balances(self) -> list[Balance]:
        """Every account's balance by rail and currency (cents, debit positive)."""
        ...

    def postings(self, escrow_id: str) -> list[LedgerPosting]: ...


def publisher(request: Request) -> Publisher:
    return cast(Publisher, request.app.state.publisher)


def views(request: Request) -> Views:
    return cast(Views, request.app.state.views)


def ledger(request: Request) -> Ledger:
    return cast(Ledger, request.app.state.ledger)


def authenticator(request: Request) -> Authenticator:
    return cast("Authenticator", request.app.state.auth)


def settings(request: Request) -> GatewaySettings:
    return cast("GatewaySettings", request.app.state.settings)


def limits(request: Request) -> MutationLimits:
    return cast("MutationLimits", request.app.state.limits)
