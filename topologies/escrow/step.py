"""``step``: the state machine against the state store (the only escrow module that sees Quix's
``State``)."""

from __future__ import annotations

from datetime import datetime

from quixstreams.state import State

from kernel.messages import Message
from kernel.model import DEFAULT_POLICY, Policy
from state_stores.codecs import decode_escrow, encode_escrow
from topologies.escrow.decide import decide
from topologies.escrow.decision import Decision

# The state of one escrow, under the message key (escrow_id) Quix prefixes every state key with.
ESCROW_KEY = "escrow"


def step(
    message: Message, state: State[str, bytes], now: datetime, policy: Policy = DEFAULT_POLICY
) -> Decision:
    """Loads the escrow, decides, and stores the new state if it changed."""
    raw = state.get_bytes(ESCROW_KEY)
    current = decode_escrow(raw) if raw is not None else None
    decision = decide(current, message, now, policy)
    if decision.state is not None and decision.state != current:
        state.set_bytes(ESCROW_KEY, encode_escrow(decision.state))
    return decision
