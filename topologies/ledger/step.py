"""``audit(ledger, event)``: post, then check; ``step``: the same against the state store (the
only ledger module that sees Quix's ``State``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from topologies.ledger.codec import decode_ledger, encode_ledger
from topologies.ledger.invariants import Violation, check
from topologies.ledger.model import Ledger, Transaction
from topologies.ledger.postings import Event, cause, post

if TYPE_CHECKING:  # the pure ``audit`` and its tests need no Quix at run time
    from quixstreams.state import State

# The ledger of one escrow, under the message key (escrow_id) Quix prefixes every state key with.
LEDGER_KEY = "ledger"


@dataclass(frozen=True)
class Audited:
    ledger: Ledger
    transactions: tuple[Transaction, ...] = ()
    violations: tuple[Violation, ...] = ()


def audit(ledger: Ledger, event: Event) -> Audited:
    """The transactions ``event`` posts and the invariants they (or the status it sets) break."""
    posted = post(ledger, event)
    if posted.ledger == ledger:
        return Audited(ledger)
    violations = check(ledger, posted.ledger, posted.transactions, cause(event))
    return Audited(posted.ledger, posted.transactions, violations)


def step(event: Event, state: State[str, bytes]) -> Audited:
    """Loads the escrow's ledger, audits the event, and stores the ledger if it changed."""
    raw = state.get_bytes(LEDGER_KEY)
    ledger = decode_ledger(raw) if raw is not None else Ledger(event.meta.escrow_id)
    audited = audit(ledger, event)
    if audited.ledger != ledger:
        state.set_bytes(LEDGER_KEY, encode_ledger(audited.ledger))
    return audited
