"""The ledger's read side: balances, an escrow's postings, and the money held as a metric."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from kernel.permissions import Party
from schemas.ledger.v1.postings_pb2 import LedgerPosting
from schemas.ledger.v1.types_pb2 import Account
from state_stores.ledger_table import Balance
from tests.fakes import FakeLedger
from tests.unit.gateway.support import as_party, assert_problem

HOLDING = Balance("ESCROW_HOLDING", "STRIPE", "USD", 500_000)
BALANCES = [HOLDING, Balance("BUYER_FUNDING", "STRIPE", "USD", -500_000)]


def test_an_admin_reads_the_balances_and_the_money_held(
    client: TestClient, ledger: FakeLedger
) -> None:
    ledger.held = BALANCES

    answer = client.get("/api/admin/ledger/balances", headers=as_party(Party.ADMIN))

    assert answer.status_code == 200
    assert answer.json()["held_cents"] == 500_000
    assert answer.json()["balances"][0] == {
        "account": "ESCROW_HOLDING",
        "rail": "STRIPE",
        "currency": "USD",
        "cents": 500_000,
    }


def test_an_admin_reads_an_escrows_postings(client: TestClient, ledger: FakeLedger) -> None:
    ledger.lines["esc-1"] = [
        LedgerPosting(
            transaction_id="t-1",
            escrow_id="esc-1",
            account=Account.ACCOUNT_ESCROW_HOLDING,
            amount_cents=500_000,
            currency="USD",
        )
    ]

    answer = client.get("/api/admin/ledger/escrow/esc-1", headers=as_party(Party.ADMIN))

    [posting] = answer.json()["postings"]
    assert (posting["account"], posting["amount_cents"]) == ("ESCROW_HOLDING", 500_000)


@pytest.mark.parametrize("path", ["/api/admin/ledger/balances", "/api/admin/ledger/escrow/esc-1"])
@pytest.mark.parametrize("party", [Party.BUYER, Party.SELLER, Party.STRANGER])
def test_only_an_admin_reads_the_ledger(client: TestClient, path: str, party: Party) -> None:
    assert_problem(client.get(path, headers=as_party(party)), 403, "forbidden")


def test_the_metrics_show_the_money_held(client: TestClient, ledger: FakeLedger) -> None:
    ledger.held = BALANCES

    metrics = client.get("/metrics").text

    assert "escrow_value_held_cents 500000.0" in metrics
