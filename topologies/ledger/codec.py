"""The ledger store's value: a ``Ledger`` as ``ledger.v1.LedgerState`` bytes (a versioned
protobuf, never JSON), like ``state_stores/codecs.py`` does for the escrow."""

from __future__ import annotations

from kernel.mapping import fill, from_proto
from kernel.model import EscrowStatus, Money, Rail
from schemas.ledger.v1.state_pb2 import LedgerState
from topologies.ledger.model import (
    Balance,
    ChargebackRecord,
    Ledger,
    ParkedOutcome,
    PaymentRecord,
    TransferRecord,
)


def encode_ledger(ledger: Ledger) -> bytes:
    message = LedgerState(
        escrow_id=ledger.escrow_id,
        hold_resolutions=ledger.hold_resolutions,
        seen_event_ids=ledger.seen_event_ids,
    )
    if ledger.status is not None:
        message.status = int(ledger.status)  # type: ignore[assignment]  # the same numbers
    if ledger.rail is not None:
        message.rail = int(ledger.rail)  # type: ignore[assignment]
    if ledger.amount is not None:
        fill(message.amount, ledger.amount)
    for target, values in (
        (message.balances, ledger.balances),
        (message.payments, ledger.payments),
        (message.parked, ledger.parked),
        (message.chargebacks, ledger.chargebacks),
        (message.transfers, ledger.transfers),
    ):
        for value in values:
            fill(target.add(), value)
    return message.SerializeToString(deterministic=True)


def decode_ledger(data: bytes) -> Ledger:
    """:raises google.protobuf.message.DecodeError: bytes that are not a ``LedgerState``."""
    message = LedgerState.FromString(data)
    return Ledger(
        escrow_id=message.escrow_id,
        status=EscrowStatus(message.status) if message.status else None,
        amount=from_proto(message.amount, Money) if message.HasField("amount") else None,
        rail=Rail(message.rail) if message.rail else None,
        balances=tuple(from_proto(b, Balance) for b in message.balances),
        payments=tuple(from_proto(p, PaymentRecord) for p in message.payments),
        parked=tuple(from_proto(p, ParkedOutcome) for p in message.parked),
        hold_resolutions=message.hold_resolutions,
        seen_event_ids=tuple(message.seen_event_ids),
        chargebacks=tuple(from_proto(c, ChargebackRecord) for c in message.chargebacks),
        transfers=tuple(from_proto(t, TransferRecord) for t in message.transfers),
    )
