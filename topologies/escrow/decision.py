"""The building blocks of a decision (``decide.py``): the ``Decision`` value, the metadata of the
events one message causes, accepting and refusing. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kernel.evolve import fold
from kernel.ids import event_meta, system_command_meta
from kernel.messages import (
    CommandMeta,
    EscrowCommandRejected,
    EscrowEvent,
    EventMeta,
    Message,
    PaymentCommand,
)
from kernel.model import SYSTEM, Actor, Escrow
from topologies.escrow.guards import Rejection


@dataclass(frozen=True)
class Decision:
    """What a message does: the state after it, the events and payment commands to emit, and
    the refusal if a guard refused it (then ``events`` is the one EscrowCommandRejected)."""

    state: Escrow | None
    events: tuple[EscrowEvent, ...] = ()
    payment_commands: tuple[PaymentCommand, ...] = ()
    rejection: Rejection | None = None


class Events:
    """The metadata of the events one message causes, in order: ids from (escrow, event type,
    cause id), versions counting on from the escrow's."""

    def __init__(self, state: Escrow | None, cause: Message | CommandMeta, now: datetime) -> None:
        meta = cause if isinstance(cause, CommandMeta) else cause.meta
        self._escrow_id, self._cause, self.now = meta.escrow_id, message_id(meta), now
        self._correlation_id = meta.correlation_id
        self._version = state.version if state else 0

    def meta(self, kind: type) -> EventMeta:
        self._version += 1
        return event_meta(
            kind, self._escrow_id, self._cause, self.now, self._version, self._correlation_id
        )


def after(since: datetime | None, period: timedelta) -> datetime | None:
    return None if since is None else since + period


def is_command(message: Message) -> bool:
    return isinstance(message.meta, CommandMeta)


def message_id(meta: CommandMeta | EventMeta) -> str:
    return meta.command_id if isinstance(meta, CommandMeta) else meta.event_id


def accepted(
    state: Escrow | None,
    events: Sequence[EscrowEvent],
    payment_commands: Iterable[PaymentCommand] = (),
) -> Decision:
    return Decision(fold(events, state), tuple(events), tuple(payment_commands))


def refuse(state: Escrow | None, message: Message, now: datetime, rejection: Rejection) -> Decision:
    meta = message.meta
    cause = message_id(meta)
    actor: Actor = meta.actor if isinstance(meta, CommandMeta) else SYSTEM
    rejected = EscrowCommandRejected(
        event_meta(
            EscrowCommandRejected,
            meta.escrow_id,
            cause,
            now,
            state.version if state else 0,
            meta.correlation_id,
        ),
        cause,
        type(message).__name__,
        rejection.reason.value,
        rejection.detail,
        actor,
    )
    new_state = fold([rejected], state) if state else None
    return Decision(new_state, (rejected,), rejection=rejection)


def payment_command_meta(kind: type, cause: CommandMeta, now: datetime) -> CommandMeta:
    return system_command_meta(kind, cause.escrow_id, cause.command_id, now, cause.correlation_id)
