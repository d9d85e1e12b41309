"""Who an actor is for an escrow: the one answer the gateway and the escrow topology share."""

from __future__ import annotations

import pytest

from kernel.model import Actor, EscrowStatus, Role
from kernel.permissions import PERMISSIONS, Party, party_of

BUYER_ID, SELLER_ID = "buyer-1", "seller-1"


@pytest.mark.parametrize(
    ("actor", "party"),
    [
        (Actor(BUYER_ID, Role.USER), Party.BUYER),
        (Actor(SELLER_ID, Role.USER), Party.SELLER),
        (Actor("admin-1", Role.ADMIN), Party.ADMIN),
        (Actor("someone", Role.USER), Party.STRANGER),
        (Actor("scheduler", Role.SYSTEM), Party.SYSTEM),
        # A party to the trade acts as that party, admin or not.
        (Actor(BUYER_ID, Role.ADMIN), Party.BUYER),
        (Actor(SELLER_ID, Role.ADMIN), Party.SELLER),
    ],
)
def test_party_of_names_what_the_actor_is_to_the_escrow(actor: Actor, party: Party) -> None:
    assert party_of(actor, BUYER_ID, SELLER_ID) is party


def test_no_stranger_may_send_any_command() -> None:
    assert all(Party.STRANGER not in p.parties for p in PERMISSIONS.values())


def test_every_state_specific_refusal_names_a_state_the_command_is_allowed_in() -> None:
    for permission in PERMISSIONS.values():
        assert set(permission.not_here) <= permission.states


def test_nothing_may_be_sent_to_a_finished_escrow() -> None:
    finished = {EscrowStatus.RELEASED, EscrowStatus.REFUNDED, EscrowStatus.CANCELLED}
    assert all(not (p.states & finished) for p in PERMISSIONS.values())


def test_a_party_allowed_elsewhere_has_a_refusal_for_every_other_allowed_state() -> None:
    for permission in PERMISSIONS.values():
        for states in permission.allowed.values():
            assert permission.states - states <= set(permission.not_here)
