"""The ledger's bytes: its store value round-trips, its records carry what the schema promises."""

from __future__ import annotations

from kernel.model import EscrowStatus, Rail
from schemas.ledger.v1.state_pb2 import LedgerState
from schemas.ledger.v1.types_pb2 import ACCOUNT_ESCROW_HOLDING, TRANSACTION_KIND_RELEASE
from tests.builders import AMOUNT, NOW, PAYMENT_ID
from tests.unit.topologies.ledger.support import (
    ESCROW_ID,
    STRAY_ID,
    chargeback_closed,
    chargeback_opened,
    created,
    feed,
    funds_held,
    paid,
    provider_returned,
    released,
)
from topologies.ledger import envelopes
from topologies.ledger.codec import decode_ledger, encode_ledger
from topologies.ledger.model import Cause, Ledger, ParkedOutcome


def test_a_new_ledger_round_trips() -> None:
    ledger = Ledger(ESCROW_ID)

    assert decode_ledger(encode_ledger(ledger)) == ledger


def test_a_ledger_with_everything_round_trips() -> None:
    fed = feed(
        [
            *(created(), paid(), funds_held(), paid(STRAY_ID), provider_returned()),
            *(chargeback_opened(), released(), chargeback_closed("won", "dp_2")),
        ]
    )
    ledger = fed.ledger

    assert ledger.parked and ledger.payments and ledger.balances and ledger.seen_event_ids
    assert len(ledger.chargebacks) == 2 and ledger.transfers
    assert ledger.status is EscrowStatus.RELEASED
    assert decode_ledger(encode_ledger(ledger)) == ledger


def test_the_store_value_is_a_ledger_state() -> None:
    ledger = Ledger(
        ESCROW_ID,
        EscrowStatus.AWAIT_FUNDS,
        AMOUNT,
        Rail.USDC_BASE,
        parked=(ParkedOutcome(PAYMENT_ID, False, Cause("evt-1", "PaymentReturned", NOW)),),
    )

    state = LedgerState.FromString(encode_ledger(ledger))

    assert (state.escrow_id, state.amount.amount_cents, state.rail) == (ESCROW_ID, 500_000, 2)
    assert state.parked[0].cause.occurred_at.ToDatetime().year == NOW.year


def test_a_transaction_becomes_one_record_per_posting_that_sum_to_zero() -> None:
    release = feed([created(), paid(), funds_held(), released()]).transactions[-1]

    records = envelopes.postings(release)

    assert [(r.index, r.transaction_size) for r in records] == [(0, 2), (1, 2)]
    assert {r.transaction_id for r in records} == {release.transaction_id}
    assert sum(r.amount_cents for r in records) == 0
    assert records[1].account == ACCOUNT_ESCROW_HOLDING and records[1].amount_cents < 0
    assert records[0].kind == TRANSACTION_KIND_RELEASE
    assert records[0].cause.event_type == "EscrowReleased"
    assert (records[0].escrow_id, records[0].currency) == (ESCROW_ID, "USD")


def test_a_violation_record_names_its_invariant_in_the_oneof() -> None:
    fed = feed([created(), paid(), funds_held(), released(), released()])

    records = [envelopes.violation(v) for v in fed.violations]

    assert {r.WhichOneof("violation") for r in records} == {
        "holding_mismatch",
        "resolved_twice",
        "negative_balance",
    }
    twice = next(r for r in records if r.HasField("resolved_twice"))
    assert (twice.resolved_twice.subject, twice.resolved_twice.times) == ("hold", 2)
    assert all(r.escrow_id == ESCROW_ID and r.detail and r.violation_id for r in records)
