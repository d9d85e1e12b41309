"""Who may send which command in which state (DESIGN.md §4; seeds: "State Machine Guards"): the
one permission table, read by ``decide``, by the gateway's pre-check and by the refusal-matrix
test, and the one function that says who an actor is for an escrow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from kernel.messages import (
    ApproveReview,
    CancelEscrow,
    MarkDelivered,
    RaiseDispute,
    RejectReview,
    ReleaseFunds,
    ResolveDispute,
    RetryPayout,
)
from kernel.model import Actor, EscrowStatus, Reason, Role

S = EscrowStatus


class Party(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    ADMIN = "admin"
    SYSTEM = "system"
    STRANGER = "stranger"


def party_of(actor: Actor, buyer_id: str, seller_id: str) -> Party:
    """What ``actor`` is to the escrow between ``buyer_id`` and ``seller_id``.

    A party to the trade acts as that party even when they are an admin as well: nobody
    arbitrates their own escrow.
    """
    if actor.role is Role.SYSTEM:
        return Party.SYSTEM
    if actor.user_id == buyer_id:
        return Party.BUYER
    if actor.user_id == seller_id:
        return Party.SELLER
    return Party.ADMIN if actor.role is Role.ADMIN else Party.STRANGER


@dataclass(frozen=True)
class Permission:
    """Who may send one command type.

    :param allowed: each party that may send it, with the states it may send it in.
    :param not_allowed: the refusal for any other party.
    :param not_here: per state, the refusal for a party allowed to send it in other states only.
    """

    allowed: Mapping[Party, frozenset[EscrowStatus]]
    not_allowed: Reason
    not_here: Mapping[EscrowStatus, Reason] = field(default_factory=dict)

    @property
    def parties(self) -> frozenset[Party]:
        return frozenset(self.allowed)

    @property
    def states(self) -> frozenset[EscrowStatus]:
        """Every state some party may send the command in."""
        return frozenset().union(*self.allowed.values())


PERMISSIONS: dict[type, Permission] = {
    MarkDelivered: Permission({Party.SELLER: frozenset({S.FUNDS_HELD})}, Reason.NOT_SELLER),
    ReleaseFunds: Permission(
        {Party.BUYER: frozenset({S.DELIVERED}), Party.SYSTEM: frozenset({S.DELIVERED})},
        Reason.NOT_BUYER,
    ),
    CancelEscrow: Permission(
        {
            Party.BUYER: frozenset({S.AWAIT_FUNDS}),
            Party.SELLER: frozenset({S.AWAIT_FUNDS, S.FUNDS_HELD}),
            Party.ADMIN: frozenset({S.AWAIT_FUNDS, S.FUNDS_HELD}),
            Party.SYSTEM: frozenset({S.AWAIT_FUNDS}),
        },
        Reason.NOT_PARTY,
        # Cancelling a funded escrow refunds the buyer before delivery: the seller's or an
        # admin's call.
        {S.FUNDS_HELD: Reason.NOT_SELLER_OR_ADMIN},
    ),
    RaiseDispute: Permission(
        {
            Party.BUYER: frozenset({S.FUNDS_HELD, S.DELIVERED}),
            Party.SELLER: frozenset({S.FUNDS_HELD}),
        },
        Reason.NOT_PARTY,
        {S.DELIVERED: Reason.NOT_BUYER},
    ),
    ResolveDispute: Permission({Party.ADMIN: frozenset({S.DISPUTED})}, Reason.NOT_ADMIN),
    # Manual review of a deposit (risk 50-80) while the escrow awaits its funds.
    ApproveReview: Permission({Party.ADMIN: frozenset({S.AWAIT_FUNDS})}, Reason.NOT_ADMIN),
    RejectReview: Permission({Party.ADMIN: frozenset({S.AWAIT_FUNDS})}, Reason.NOT_ADMIN),
    # A failed payout is retried by the scheduler (its backoff timer) or, once retries are
    # exhausted, by an admin.
    RetryPayout: Permission(
        {
            Party.ADMIN: frozenset({S.FUNDS_HELD, S.DELIVERED, S.DISPUTED}),
            Party.SYSTEM: frozenset({S.FUNDS_HELD, S.DELIVERED, S.DISPUTED}),
        },
        Reason.NOT_ADMIN,
    ),
}
