"""Every state x command x actor: accepted exactly where the permission table
(``kernel.permissions``, DESIGN.md §4) allows it, otherwise refused with the reason the guard order
(exists, party, idempotency, version, state, payout, party in this state) gives."""

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
from kernel.model import Actor, DisputeResolution, Escrow, EscrowStatus, Reason, Role
from kernel.permissions import PERMISSIONS, Party
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
# The permission table decide and the gateway read, by command name.
PERMISSION = {kind.__name__: permission for kind, permission in PERMISSIONS.items()}


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
    permission, party = PERMISSION[command], Party(actor)
    if party not in permission.parties:
        return permission.not_allowed
    if state.status not in permission.states:
        return Reason.INVALID_STATE
    if state.payout_pending:
        return Reason.PAYOUT_PENDING
    if state.status not in permission.allowed[party]:
        return permission.not_here[state.status]
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


class TestAnAdminWhoIsAlsoTheBuyer:
    """A party to the trade acts as that party, admin or not: nobody arbitrates their own escrow
    (the gateway's pre-check answers the same; tests/unit/gateway)."""

    ADMIN_BUYER = Actor(BUYER.user_id, Role.ADMIN)

    def test_releases_as_the_buyer(self) -> None:
        decision = decide(
            escrow_in(S.DELIVERED), ReleaseFunds(command_meta(actor=self.ADMIN_BUYER)), NOW
        )

        assert decision.rejection is None
        assert decision.payment_commands

    def test_cannot_resolve_the_dispute_of_their_own_escrow(self) -> None:
        command = ResolveDispute(
            command_meta(actor=self.ADMIN_BUYER), DisputeResolution.FAVOR_BUYER
        )

        decision = decide(escrow_in(S.DISPUTED), command, NOW)

        assert decision.rejection is not None
        assert decision.rejection.reason is Reason.NOT_ADMIN
