"""The escrow topology: ``escrow.commands.v1`` + ``payments.events.v1`` -> the escrow state store
-> ``escrow.events.v1`` + ``payments.commands.v1``, exactly-once (DESIGN.md §1, §4)."""

from __future__ import annotations

from typing import Any

from quixstreams import Application

from connectors.topics import ESCROW_COMMANDS, ESCROW_EVENTS, PAYMENTS_COMMANDS, PAYMENTS_EVENTS
from schemas.escrow.v1.events_pb2 import EscrowEvent
from schemas.payments.v1.commands_pb2 import PaymentCommand
from topologies.escrow.handler import handle_record
from topologies.settings import TopologySettings
from topologies.wiring import (
    application,
    emit,
    input_topic,
    output_topic,
    route_dead_letters,
    serve,
)

NAME = "escrow"


def build(settings: TopologySettings, registry: Any) -> Application:
    app = application(settings, NAME)
    commands = app.dataframe(input_topic(app, ESCROW_COMMANDS))
    sdf = commands.concat(app.dataframe(input_topic(app, PAYMENTS_EVENTS)))
    sdf = sdf.apply(handle_record, stateful=True, metadata=True)
    emit(
        sdf,
        {
            ESCROW_EVENTS: output_topic(app, ESCROW_EVENTS, EscrowEvent, registry),
            PAYMENTS_COMMANDS: output_topic(app, PAYMENTS_COMMANDS, PaymentCommand, registry),
        },
    )
    route_dead_letters(sdf, app, [ESCROW_COMMANDS, PAYMENTS_EVENTS])
    return app


def main() -> None:
    serve(build)


if __name__ == "__main__":
    main()
