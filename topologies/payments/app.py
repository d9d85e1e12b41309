"""The payments topology: ``payments.commands.v1`` -> Stripe / custodian -> ``payments.events.v1``,
exactly-once (DESIGN.md §5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from quixstreams import Application
from quixstreams.state import State

from connectors.kafka_serdes import schema_registry
from connectors.payment_rail import PaymentRail
from connectors.topics import PAYMENTS_COMMANDS, PAYMENTS_EVENTS
from kernel import mapping
from kernel.messages import PaymentCommand
from kernel.model import Rail
from schemas.payments.v1.events_pb2 import PaymentEvent
from topologies import metrics
from topologies.payments.step import step
from topologies.records import Decoder, Output, Record, decoded
from topologies.settings import RailSettings, TopologySettings
from topologies.wiring import application, input_topic, route_outputs, run

NAME = "payments"


class PaymentsSettings(RailSettings):
    """The providers (``RailSettings``); a transaction outlasts a call's retries."""

    # Five tries of 2 s plus 1.5 s of backoff fit in one transaction.
    transaction_timeout_ms: int = 30_000


def payments_handler(rails: Mapping[Rail, PaymentRail]) -> Callable[..., Output]:
    """One payment command record in, its payment event (and, retries exhausted, a dead
    letter) out."""

    def handle(command: PaymentCommand, record: Record, state: State[str, bytes]) -> Output:
        outcome = step(command, state, rails, record.time)
        kind = type(command).__name__
        if outcome is None:
            metrics.PAYMENT_COMMANDS.labels(kind, "duplicate").inc()
            return Output()
        metrics.PAYMENT_COMMANDS.labels(kind, type(outcome.event).__name__).inc()
        records = {PAYMENTS_EVENTS: [mapping.PAYMENT_EVENTS.to_proto(outcome.event)]}
        exhausted = outcome.exhausted
        return Output(records, record.dead_letter(exhausted) if exhausted else None)

    decoder = Decoder(PAYMENTS_COMMANDS, mapping.PAYMENT_COMMANDS, lambda m: m.meta.escrow_id)
    return decoded({PAYMENTS_COMMANDS: decoder}, handle)


def build(
    settings: TopologySettings, registry: Any, rails: Mapping[Rail, PaymentRail]
) -> Application:
    app = application(settings, NAME)
    sdf = app.dataframe(input_topic(app, PAYMENTS_COMMANDS))
    sdf = sdf.apply(payments_handler(rails), stateful=True, metadata=True)
    route_outputs(sdf, app, {PAYMENTS_EVENTS: PaymentEvent}, registry, [PAYMENTS_COMMANDS])
    return app


def main() -> None:
    settings = PaymentsSettings()
    registry = schema_registry(settings.schema_registry_url)
    run(lambda: build(settings, registry, settings.rails()), settings)


if __name__ == "__main__":
    main()
