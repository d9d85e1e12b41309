"""``step``: a payment command against the payments state store (the only payments module that
sees Quix's ``State``).

Per escrow the store keeps which commands completed (``done/<command_id>``, 30 days) and the
provider objects made (``artifacts``). Under exactly-once a crash before the commit rolls the
store back with everything else, and the reprocessed command repeats the provider call with the
same idempotency key, which the provider answers with the first result: money moves once. A
command delivered again after its commit is answered from the store: no call, no new event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from quixstreams.state import State

from connectors.payment_rail import PaymentRail
from kernel.messages import (
    PaymentCommand,
    PaymentEvent,
    PaymentIntentCreated,
    RefundSubmitted,
    RefundSucceeded,
    TransferSubmitted,
    TransferSucceeded,
)
from kernel.model import Rail
from schemas.payments.v1.state_pb2 import PaymentArtifacts
from topologies.payments.effects import Outcome, perform

ARTIFACTS_KEY = "artifacts"
DONE_TTL = timedelta(days=30)


def step(
    command: PaymentCommand,
    state: State[str, bytes],
    rails: Mapping[Rail, PaymentRail],
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome | None:
    """The command's outcome, or None when it completed before (a duplicate)."""
    done_key = f"done/{command.meta.command_id}"
    if state.get_bytes(done_key) is not None:
        return None
    outcome = perform(command, rails, now, sleep)
    state.set_bytes(done_key, b"1", ttl=DONE_TTL)
    state.set_bytes(ARTIFACTS_KEY, _recorded(state.get_bytes(ARTIFACTS_KEY), outcome.event))
    return outcome


def _recorded(raw: bytes | None, event: PaymentEvent) -> bytes:
    artifacts = PaymentArtifacts.FromString(raw) if raw else PaymentArtifacts()
    if isinstance(event, PaymentIntentCreated):
        artifacts.rail = int(event.rail)  # type: ignore[assignment]  # the same numbers
        artifacts.provider_payment_id = event.provider_payment_id
        artifacts.deposit_address = event.deposit_address
    elif isinstance(event, TransferSucceeded | TransferSubmitted):
        artifacts.transfer_id = event.transfer_id
    elif isinstance(event, RefundSucceeded | RefundSubmitted):
        artifacts.refund_id = event.refund_id
    return artifacts.SerializeToString(deterministic=True)
