from __future__ import annotations

from kernel.model import KycTier, Role
from tests.builders import AMOUNT, NOW, payment_meta
from topologies.contracts.translate import ContractExecuted, create_escrow_for, escrow_id_for


def executed(contract_id: str = "contract-1") -> ContractExecuted:
    return ContractExecuted(
        payment_meta(""),
        contract_id,
        "buyer-1",
        "seller-1",
        AMOUNT,
        KycTier.TIER_1,
        KycTier.TIER_2,
        "acct_1",
        "",
    )


def test_an_executed_contract_creates_its_escrow_as_the_system() -> None:
    command = create_escrow_for(executed(), NOW)

    assert command.meta.escrow_id == escrow_id_for("contract-1")
    assert command.meta.actor.role is Role.SYSTEM
    assert (command.buyer_id, command.seller_id, command.amount) == ("buyer-1", "seller-1", AMOUNT)


def test_a_redelivered_contract_event_yields_the_very_same_command() -> None:
    first, again = executed(), executed()  # new event ids, same contract

    assert (
        create_escrow_for(first, NOW).meta.command_id
        == create_escrow_for(again, NOW).meta.command_id
    )
    assert create_escrow_for(executed("contract-2"), NOW).meta.escrow_id != escrow_id_for(
        "contract-1"
    )
