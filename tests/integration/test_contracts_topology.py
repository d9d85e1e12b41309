from __future__ import annotations

import pytest

from connectors.topics import CONTRACTS_EVENTS, ESCROW_COMMANDS
from kernel.messages import EscrowCommandRejected, EscrowCreated, MarkDelivered
from schemas.common.v1.types_pb2 import KycTier
from schemas.contracts.v1.events_pb2 import ContractEvent
from tests.builders import SELLER, command_meta, random_id
from tests.escrow_harness import EscrowHarness
from tests.integration.conftest import ProcessFactory
from tests.kafka import Tail
from topologies.contracts.translate import escrow_id_for

pytestmark = pytest.mark.integration


def contract_executed(contract_id: str) -> ContractEvent:
    event = ContractEvent()
    event.meta.event_id = random_id("contract-evt")
    executed = event.contract_executed
    executed.contract_id, executed.buyer_id, executed.seller_id = contract_id, "buyer-1", "seller-1"
    executed.amount.amount_cents, executed.amount.currency = 500_000, "USD"
    executed.buyer_kyc_tier = executed.seller_kyc_tier = KycTier.KYC_TIER_1
    executed.seller_stripe_account_id = "acct_seller_1"
    return event


def test_a_redelivered_contract_creates_one_escrow(
    start_topology: ProcessFactory, escrow_harness: EscrowHarness, bootstrap_servers: str
) -> None:
    start_topology("contracts")
    start_topology("escrow")
    contract_id = random_id("contract")
    escrow_id = escrow_id_for(contract_id)
    commands = Tail(bootstrap_servers, ESCROW_COMMANDS)

    for _ in range(3):  # redeliveries, each with its own event id
        escrow_harness.producer.send(CONTRACTS_EVENTS, contract_id, contract_executed(contract_id))
    translated = commands.wait_for(lambda rs: sum(r.key() == escrow_id.encode() for r in rs) == 3)
    # A later command on the escrow's partition: once it is decided, the three copies were too.
    escrow_harness.command(MarkDelivered(command_meta(escrow_id, SELLER)))
    escrow_harness.wait_event(escrow_id, EscrowCommandRejected)

    ids = {commands.decode(r).meta.command_id for r in translated if r.key() == escrow_id.encode()}
    events = escrow_harness.events_of(escrow_id)
    assert len(ids) == 1  # the same command, three times
    assert sum(isinstance(e, EscrowCreated) for e in events) == 1
    commands.close()
