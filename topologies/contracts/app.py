"""The contracts topology: ``contracts.events.v1`` (key contract_id) -> ``CreateEscrow`` on
``escrow.commands.v1`` (key escrow_id). Stateless; exactly-once like every topology."""

from __future__ import annotations

from typing import Any

from quixstreams import Application

from connectors.topics import CONTRACTS_EVENTS, ESCROW_COMMANDS
from kernel.mapping import COMMANDS, EnvelopeMapper
from schemas.contracts.v1.events_pb2 import ContractEvent
from schemas.escrow.v1.commands_pb2 import EscrowCommand
from topologies.contracts.translate import ContractExecuted, create_escrow_for
from topologies.records import Decoder, Output, Record, decoded
from topologies.settings import TopologySettings
from topologies.wiring import (
    application,
    input_topic,
    route_outputs,
    serve,
)

NAME = "contracts"
DECODER = Decoder(CONTRACTS_EVENTS, EnvelopeMapper(ContractEvent, [ContractExecuted]))


def _handle(event: ContractExecuted, record: Record) -> Output:
    return Output({ESCROW_COMMANDS: [COMMANDS.to_proto(create_escrow_for(event, record.time))]})


handle_record = decoded({CONTRACTS_EVENTS: DECODER}, _handle)


def build(settings: TopologySettings, registry: Any) -> Application:
    app = application(settings, NAME)
    sdf = app.dataframe(input_topic(app, CONTRACTS_EVENTS))
    sdf = sdf.apply(handle_record, metadata=True)
    route_outputs(
        sdf,
        app,
        {ESCROW_COMMANDS: EscrowCommand},
        registry,
        [CONTRACTS_EVENTS],
        key=lambda command: command.meta.escrow_id.encode(),
    )
    return app


def main() -> None:
    serve(build)


if __name__ == "__main__":
    main()
