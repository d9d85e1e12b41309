"""ContractExecuted -> CreateEscrow (seeds: lifecycle steps 1-2; sprint task 6.3). Pure.

The escrow id and the command id derive from the contract id alone, so a redelivered contract
event (same or new event id) yields the very same command, which the escrow topology ignores as
a duplicate: one contract, one escrow.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kernel.messages import CommandMeta, CreateEscrow, EventMeta
from kernel.model import Actor, KycTier, Money, Role

CONTRACTS_TOPOLOGY = Actor("contracts-topology", Role.SYSTEM)
_NAMESPACE = uuid.UUID("0b5f7c1e-2d4a-4c55-8f0e-93a1f2b7c6d4")


@dataclass(frozen=True)
class ContractExecuted:
    """contracts.v1.ContractExecuted: both parties signed."""

    meta: EventMeta
    contract_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    buyer_kyc_tier: KycTier
    seller_kyc_tier: KycTier
    seller_stripe_account_id: str = ""
    seller_wallet_address: str = ""


def escrow_id_for(contract_id: str) -> str:
    return f"esc_{uuid.uuid5(_NAMESPACE, f'escrow/{contract_id}').hex}"


def create_escrow_for(event: ContractExecuted, now: datetime) -> CreateEscrow:
    """The CreateEscrow command for an executed contract, issued at ``now`` (the record time)."""
    escrow_id = escrow_id_for(event.contract_id)
    meta = CommandMeta(
        command_id=str(uuid.uuid5(_NAMESPACE, f"create-escrow/{event.contract_id}")),
        escrow_id=escrow_id,
        actor=CONTRACTS_TOPOLOGY,
        issued_at=now,
        correlation_id=event.meta.correlation_id or event.meta.event_id,
    )
    return CreateEscrow(
        meta,
        contract_id=event.contract_id,
        buyer_id=event.buyer_id,
        seller_id=event.seller_id,
        amount=event.amount,
        buyer_kyc_tier=event.buyer_kyc_tier,
        seller_kyc_tier=event.seller_kyc_tier,
        seller_stripe_account_id=event.seller_stripe_account_id,
        seller_wallet_address=event.seller_wallet_address,
    )
