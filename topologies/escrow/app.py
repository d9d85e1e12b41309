"""The escrow topology: ``escrow.commands.v1`` + ``payments.events.v1`` -> the escrow state store
-> ``escrow.events.v1`` + ``payments.commands.v1``, exactly-once (DESIGN.md §1, §4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quixstreams import Application

from connectors.kafka_serdes import schema_registry
from connectors.topics import ESCROW_COMMANDS, ESCROW_EVENTS, PAYMENTS_COMMANDS, PAYMENTS_EVENTS
from kernel.model import DEFAULT_POLICY, Policy
from schemas.escrow.v1.events_pb2 import EscrowEvent
from schemas.payments.v1.commands_pb2 import PaymentCommand
from topologies.escrow.handler import escrow_handler
from topologies.settings import TopologySettings
from topologies.wiring import application, input_topic, route_outputs, run

NAME = "escrow"


class EscrowSettings(TopologySettings):
    """The policy's clocks, in seconds (defaults: the seeds', ``kernel.model.Policy``).

    Environment: ``FUNDING_TIMEOUT_S`` (259200 = 72 h), ``AUTO_RELEASE_AFTER_S`` (604800 = 7 days),
    ``PAYOUT_RETRY_INITIAL_S`` (60), ``PAYOUT_RETRY_MAX_S`` (3600), ``MAX_PAYOUT_FAILURES`` (5).
    Tests and the demo shorten them to seconds.
    """

    funding_timeout_s: float = DEFAULT_POLICY.funding_timeout.total_seconds()
    auto_release_after_s: float = DEFAULT_POLICY.auto_release_after.total_seconds()
    payout_retry_initial_s: float = DEFAULT_POLICY.payout_retry_initial.total_seconds()
    payout_retry_max_s: float = DEFAULT_POLICY.payout_retry_max.total_seconds()
    max_payout_failures: int = DEFAULT_POLICY.max_payout_failures

    def policy(self) -> Policy:
        return Policy(
            funding_timeout=timedelta(seconds=self.funding_timeout_s),
            auto_release_after=timedelta(seconds=self.auto_release_after_s),
            payout_retry_initial=timedelta(seconds=self.payout_retry_initial_s),
            payout_retry_max=timedelta(seconds=self.payout_retry_max_s),
            max_payout_failures=self.max_payout_failures,
        )


def build(
    settings: TopologySettings, registry: Any, policy: Policy = DEFAULT_POLICY
) -> Application:
    app = application(settings, NAME)
    commands = app.dataframe(input_topic(app, ESCROW_COMMANDS))
    sdf = commands.concat(app.dataframe(input_topic(app, PAYMENTS_EVENTS)))
    sdf = sdf.apply(escrow_handler(policy), stateful=True, metadata=True)
    outputs = {ESCROW_EVENTS: EscrowEvent, PAYMENTS_COMMANDS: PaymentCommand}
    route_outputs(sdf, app, outputs, registry, [ESCROW_COMMANDS, PAYMENTS_EVENTS])
    return app


def main() -> None:
    settings = EscrowSettings()
    registry = schema_registry(settings.schema_registry_url)
    run(lambda: build(settings, registry, settings.policy()), settings)


if __name__ == "__main__":
    main()
