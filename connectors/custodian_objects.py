"""The custodian's objects (deposit addresses, transfers, returns, as ``custodian_api.md`` documents
their JSON) as ``ProviderObject``s, with the webhook the custodian sends about each in its current
status (seeds: "Reconciliation"). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.payment_rail import Movement, ProviderObject, ProviderWebhook, Status

Json = Mapping[str, Any]

# The reason of a return that is a refund the escrow decided (any other return gives back money
# the escrow could not take).
REFUND = "refund"

_PAYOUT_STATUSES = {"completed": Status.SUCCEEDED, "failed": Status.FAILED}


def deposit_address(address: Json) -> ProviderObject:
    """A deposit address: succeeded once a deposit to it is confirmed (amount: what arrived,
    ``created``: when), canceled when closed without one, else pending."""
    received = address.get("deposit") or {}
    if received:
        status = Status.SUCCEEDED
    else:
        status = Status.CANCELED if address["status"] == "closed" else Status.PENDING
    data = {
        "deposit_id": address["id"],
        "reference": address["reference"],
        "address": address["address"],
        **{name: received.get(name) for name in ("from_address", "amount_cents", "tx_hash")},
    }
    return ProviderObject(
        Movement.PAYMENT,
        address["id"],
        address["id"],
        str(address["reference"]),
        status,
        int(received.get("amount_cents") or address["amount_cents"]),
        str(address.get("currency") or "USD"),
        _at(received.get("confirmed_at") or address["created"]),
        str(received.get("from_address") or ""),
        ProviderWebhook("deposit.confirmed", data) if received else None,
    )


def transfer(transfer: Json) -> ProviderObject:
    """An on-chain transfer to the seller's wallet: ``transfer.completed`` / ``.failed``."""
    return _payout("transfer", Movement.TRANSFER, transfer)


def deposit_return(returned: Json) -> ProviderObject:
    """A deposit sent back on chain: a refund (reason ``REFUND``) or a return, announced
    ``return.completed`` / ``.failed``."""
    movement = Movement.REFUND if returned.get("reason") == REFUND else Movement.RETURN
    return _payout("return", movement, returned)


def _payout(kind: str, movement: Movement, payout: Json) -> ProviderObject:
    status = _PAYOUT_STATUSES.get(payout["status"], Status.PENDING)
    # The webhook's data: the object under "<kind>_id", as the custodian sends it.
    data = {f"{kind}_id": payout["id"]} | {
        name: value for name, value in payout.items() if name not in ("id", "status", "created")
    }
    return ProviderObject(
        movement,
        payout["id"],
        str(payout["deposit_id"]),
        str(payout["reference"]),
        status,
        int(payout["amount_cents"]),
        str(payout.get("currency") or "USD"),
        _at(payout["created"]),
        webhook=None
        if status is Status.PENDING
        else ProviderWebhook(f"{kind}.{payout['status']}", data),
    )


def _at(unix_s: Any) -> datetime:
    return datetime.fromtimestamp(float(unix_s), UTC)
