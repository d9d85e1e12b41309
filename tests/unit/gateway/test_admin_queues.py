"""The admins' queues: escrows by status and the payouts failing, the longest unchanged first,
a page at a time; admin only."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from kernel.permissions import Party
from schemas.escrow.v1.views_pb2 import EscrowView, HistoryEntry
from tests.fakes import FakeViews
from tests.unit.gateway.support import as_party, assert_problem, escrow_view, pages

T0 = 1_790_000_000  # seconds since the epoch: 2026-09-21T14:13:20Z


def changed(index: int, status: str, last_event: str = "EscrowDisputed") -> EscrowView:
    """Escrow ``q-<index>`` in ``status``, last changed ``index`` minutes after T0."""
    view = escrow_view(f"q-{index:02d}", status=status)
    view.updated_at.FromSeconds(T0 + 60 * index)
    view.history.append(HistoryEntry(event_type=last_event, version=view.version))
    return view


@pytest.fixture
def queued(views: FakeViews) -> None:
    for index in range(12):
        views.put(changed(index, "DISPUTED"))
    views.put(changed(20, "DELIVERED", "EscrowTransferFailed"))
    views.put(changed(21, "FUNDS_HELD", "EscrowRefundFailed"))
    views.put(changed(22, "DELIVERED", "EscrowTransferRequested"))  # retried: not failing


def walk(client: TestClient, path: str, **query: str) -> list[str]:
    return [e for page in pages(client, path, as_party(Party.ADMIN), **query) for e in page]


def test_disputes_the_longest_unchanged_first_a_page_at_a_time(
    client: TestClient, queued: None
) -> None:
    disputes = walk(client, "/api/admin/escrows", status="DISPUTED", limit="5")

    assert disputes == [f"q-{i:02d}" for i in range(12)]


def test_older_than_keeps_those_unchanged_since_before_it(client: TestClient, queued: None) -> None:
    before = "2026-09-21T14:18:20+00:00"  # T0 + 5 minutes

    disputes = walk(client, "/api/admin/escrows", status="DISPUTED", older_than=before)

    assert disputes == [f"q-{i:02d}" for i in range(5)]


def test_the_payouts_failing(client: TestClient, queued: None) -> None:
    assert walk(client, "/api/admin/queues/payouts-failing") == ["q-20", "q-21"]


@pytest.mark.parametrize("party", [Party.BUYER, Party.SELLER])
@pytest.mark.parametrize(
    "path", ["/api/admin/escrows?status=DISPUTED", "/api/admin/queues/payouts-failing"]
)
def test_only_an_admin_sees_them(client: TestClient, party: Party, path: str) -> None:
    assert_problem(client.get(path, headers=as_party(party)), 403, "forbidden")


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("", "invalid-status"),
        ("?status=OPEN", "invalid-status"),
        ("?status=DISPUTED&older_than=yesterday", "invalid-time"),
        ("?status=DISPUTED&older_than=2026-09-21T14:18:20", "invalid-time"),
    ],
)
def test_bad_queries_are_400_problems(client: TestClient, query: str, kind: str) -> None:
    answer = client.get(f"/api/admin/escrows{query}", headers=as_party(Party.ADMIN))

    assert_problem(answer, 400, kind)
