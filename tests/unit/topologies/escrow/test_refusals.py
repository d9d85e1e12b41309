"""Every state x command x actor: accepted exactly where DESIGN.md §4 allows it, otherwise
refused with the reason the guard order (exists, actor, idempotency, version, state) gives."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from kernel.messages import (
    CancelEscrow,
    EscrowCommand,
    MarkDelivered,
    RaiseDispute,
    ReleaseFunds,
    ResolveDispute,
)
from kernel.model import Actor, DisputeResolution, Escrow, EscrowStatus, Reason
from tests.builders import (
    ADMIN,
    BUYER,
    NOW,
    SCHEDULER,
    SELLER,
    STRANGER,
    command_meta,
    escrow_in,
)
from topologies.escrow.decide import decide

S = EscrowStatus
ACTORS = {
    "buyer": BUYER,
    "seller": SELLER,
    "admin": ADMIN,
    "stranger": STRANGER,
    "system": SCHEDULER,
}
COMMANDS: dict[str, Callable[[Actor], EscrowCommand]] = {
    "MarkDelivered": lambda a: MarkDelivered(command_meta(actor=a)),
    "ReleaseFunds": lambda a: ReleaseFunds(command_meta(actor=a)),
    "CancelEscrow": lambda a: CancelEscrow(command_meta(actor=a), "a reason"),
    "RaiseDispute": lambda a: RaiseDispute(command_meta(actor=a), "a reason"),
    "ResolveDispute": lambda a: ResolveDispute(
        command_meta(actor=a), DisputeResolution.FAVOR_SELLER
    ),
}
# The transition table: who may send each command, in which states.
ALLOWED: dict[str, dict[str, set[EscrowStatus]]] = {
    "MarkDelivered": {"seller": {S.FUNDS_HELD}},
    "ReleaseFunds": {"buyer": {S.DELIVERED}, "system": {S.DELIVERED}},
    "CancelEscrow": {
        "buyer": {S.AWAIT_FUNDS},
        "seller": {S.AWAIT_FUNDS, S.FUNDS_HELD},
        "admin": {S.AWAIT_FUNDS, S.FUNDS_HELD},
        "system": {S.AWAIT_FUNDS},
    },
    "RaiseDispute": {"buyer": {S.FUNDS_HELD, S.DELIVERED}, "seller": {S.FUNDS_HELD}},
    "ResolveDispute": {"admin": {S.DISPUTED}},
}
NOT_ALLOWED_ACTOR = {
    "MarkDelivered": Reason.NOT_SELLER,
    "ReleaseFunds": Reason.NOT_BUYER,
    "CancelEscrow": Reason.NOT_PARTY,
    "RaiseDispute": Reason.NOT_PARTY,
    "ResolveDispute": Reason.NOT_ADMIN,
}
# A state the command is allowed in, but not for this actor.
NOT_ALLOWED_HERE = {
    ("CancelEscrow", S.FUNDS_HELD): Reason.NOT_SELLER_OR_ADMIN,
    ("RaiseDispute", S.DELIVERED): Reason.NOT_BUYER,
}


def _with_payout_pending(status: EscrowStatus) -> Escrow:
    state = escrow_in(status)
    command = (
        ReleaseFunds(command_meta(actor=BUYER))
        if status is S.DELIVERED
        else CancelEscrow(command_meta(actor=SELLER), "refund")
        if status is S.FUNDS_HELD
        else ResolveDispute(command_meta(actor=ADMIN), DisputeResolution.FAVOR_BUYER)
    )
    pending = decide(state, command, NOW).state
    assert pending is not None and pending.payout_pending
    return pending


STATES: dict[str, Callable[[], Escrow]] = {
    **{status.name: partial(escrow_in, status) for status in EscrowStatus},
    **{
        f"{status.name}+payout pending": partial(_with_payout_pending, status)
        for status in (S.FUNDS_HELD, S.DELIVERED, S.DISPUTED)
    },
}


def expected(command: str, actor: str, state: Escrow) -> Reason | None:
    roles = ALLOWED[command]
    if actor not in roles:
        return NOT_ALLOWED_ACTOR[command]
    if state.status not in set().union(*roles.values()):
        return Reason.INVALID_STATE
    if state.payout_pending:
        return Reason.PAYOUT_PENDING
    if state.status not in roles[actor]:
        return NOT_ALLOWED_HERE[(command, state.status)]
    return None


@pytest.mark.parametrize(
    ("state_name", "command", "actor"),
    list(itertools.product(STATES, COMMANDS, ACTORS)),
)
def test_every_state_command_and_actor(state_name: str, command: str, actor: str) -> None:
    state = STATES[state_name]()
    later = NOW + timedelta(days=30)  # past every timeout, so the system actor is not early

    decision = decide(state, COMMANDS[command](ACTORS[actor]), later)

    reason = expected(command, actor, state)
    if reason is None:
        assert decision.rejection is None
        assert decision.events
    else:
        assert decision.rejection is not None and decision.rejection.reason is reason
        assert decision.state is not None
        assert (decision.state.status, decision.state.version) == (state.status, state.version)
