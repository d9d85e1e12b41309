"""One input record of the escrow topology in, an ``Output`` out: decode, step, count, encode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from quixstreams.state import State

from connectors.topics import ESCROW_COMMANDS, ESCROW_EVENTS, PAYMENTS_COMMANDS, PAYMENTS_EVENTS
from kernel import mapping
from kernel.messages import CommandMeta, EscrowRefundFailed, EscrowTransferFailed, Message
from kernel.model import Policy
from topologies import metrics
from topologies.escrow.decision import Decision
from topologies.escrow.step import step
from topologies.records import Decoder, Output, Record, decoded

DECODERS = {
    ESCROW_COMMANDS: Decoder(ESCROW_COMMANDS, mapping.COMMANDS, lambda m: m.meta.escrow_id),
    PAYMENTS_EVENTS: Decoder(PAYMENTS_EVENTS, mapping.PAYMENT_EVENTS, lambda m: m.meta.escrow_id),
}
# The counter each business event increments (seeds: "Key Metrics"; alert rules in
# infra/prometheus/alerts.yml).
_BUSINESS = {
    "EscrowCreated": metrics.CREATED,
    "EscrowFundsHeld": metrics.FUNDS_HELD,
    "EscrowDelivered": metrics.DELIVERED,
    "EscrowReleased": metrics.RELEASED,
    "EscrowPaymentReturned": metrics.PAYMENTS_RETURNED,
    "EscrowChargebackOpened": metrics.CHARGEBACKS,
    "EscrowTransferReversed": metrics.TRANSFER_REVERSALS,
}


def escrow_handler(policy: Policy) -> Callable[..., Output]:
    """The Quix ``apply`` function of the escrow topology, deciding under ``policy``."""

    def handle(message: Message, record: Record, state: State[str, bytes]) -> Output:
        decision = step(message, state, record.time, policy)
        _count(message, decision)
        return Output(
            {
                ESCROW_EVENTS: [mapping.EVENTS.to_proto(e) for e in decision.events],
                PAYMENTS_COMMANDS: [
                    mapping.PAYMENT_COMMANDS.to_proto(c) for c in decision.payment_commands
                ],
            }
        )

    return decoded(DECODERS, handle)


def _count(message: Message, decision: Decision) -> None:
    kind = type(message).__name__
    if decision.rejection is not None:
        metrics.MESSAGES.labels(kind, "rejected").inc()
        metrics.REJECTIONS.labels(decision.rejection.reason.value).inc()
        return
    metrics.MESSAGES.labels(kind, "applied" if decision.events else "duplicate").inc()
    if isinstance(message.meta, CommandMeta):
        latency = datetime.now(UTC) - message.meta.issued_at
        metrics.COMMAND_LATENCY.observe(max(latency.total_seconds(), 0.0))
    for event in decision.events:
        name = type(event).__name__
        metrics.TRANSITIONS.labels(name).inc()
        if name in _BUSINESS:
            _BUSINESS[name].inc()
        if name == "EscrowCreated":
            metrics.VALUE.inc(decision.state.amount.amount_cents if decision.state else 0)
        if isinstance(event, EscrowTransferFailed | EscrowRefundFailed) and event.retry_at is None:
            metrics.PAYOUT_FAILURES_EXHAUSTED.inc()
