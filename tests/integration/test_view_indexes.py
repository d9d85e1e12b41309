"""The view table's party index on the real broker: a user with 250 escrows pages through all of
them, and a table rebuilt from ``escrow.views.v1`` in a fresh directory answers the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.topics import ESCROW_VIEWS
from state_stores.view_indexes import Role
from state_stores.view_table import ViewTable
from tests.builders import random_id
from tests.eventually import eventually
from tests.kafka import EnvelopeProducer
from tests.unit.gateway.support import escrow_view

pytestmark = pytest.mark.integration

ESCROWS = 250


@pytest.fixture
def user(bootstrap_servers: str) -> tuple[str, list[str]]:
    """A user with ESCROWS escrows (every fifth as seller), and their ids newest first."""
    user_id, other = random_id("user"), random_id("other")
    producer = EnvelopeProducer(bootstrap_servers)
    ids = []
    for index in range(ESCROWS):
        buyer, seller = (other, user_id) if index % 5 == 0 else (user_id, other)
        view = escrow_view(random_id("esc"), buyer_id=buyer, seller_id=seller)
        view.created_at.FromSeconds(1_790_000_000 + index)
        producer.send(ESCROW_VIEWS, view.escrow_id, view)
        ids.append(view.escrow_id)
    return user_id, ids[::-1]


@pytest.fixture
def tables() -> Iterator[list[ViewTable]]:
    """The tables a test starts, stopped after it."""
    made: list[ViewTable] = []
    yield made
    for table in made:
        table.stop()


def caught_up(bootstrap_servers: str, path: Path, tables: list[ViewTable]) -> ViewTable:
    table = ViewTable(bootstrap_servers, path)
    tables.append(table)
    table.start()
    eventually(lambda: table.ready, 60, interval_s=0.1, what="the view table caught up")
    return table


def every_page(table: ViewTable, user_id: str, roles: list[Role], limit: int) -> list[str]:
    found, after = [], ""
    while True:
        page = table.escrows_of(user_id, roles, None, after, limit)
        found += page.escrow_ids
        if page.after is None:
            return found
        after = page.after


def test_a_user_pages_through_all_their_escrows_and_a_rebuilt_table_agrees(
    bootstrap_servers: str, tmp_path: Path, user: tuple[str, list[str]], tables: list[ViewTable]
) -> None:
    user_id, newest_first = user
    table = caught_up(bootstrap_servers, tmp_path / "first", tables)
    rebuilt = caught_up(bootstrap_servers, tmp_path / "rebuilt", tables)

    paged = every_page(table, user_id, list(Role), 100)
    as_seller = every_page(table, user_id, [Role.SELLER], 7)

    assert paged == newest_first
    assert as_seller == [e for i, e in enumerate(newest_first) if (ESCROWS - 1 - i) % 5 == 0]
    assert every_page(rebuilt, user_id, list(Role), 100) == paged
    assert every_page(rebuilt, user_id, [Role.SELLER], 7) == as_seller
