"""Drives the escrow topology over the real broker: produce domain messages, read domain outputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.topics import (
    ESCROW_COMMANDS,
    ESCROW_EVENTS,
    PAYMENTS_COMMANDS,
    PAYMENTS_EVENTS,
)
from kernel import mapping
from kernel.messages import (
    CreatePaymentIntent,
    EscrowCommand,
    EscrowEvent,
    EscrowFundsHeld,
    PaymentCommand,
    PaymentEvent,
)
from tests.builders import create_escrow, payment_intent_created, payment_succeeded
from tests.kafka import EnvelopeProducer, Tail


class EscrowHarness:
    def __init__(self, bootstrap: str) -> None:
        self.producer = EnvelopeProducer(bootstrap)
        self.events = Tail(bootstrap, ESCROW_EVENTS)
        self.payment_commands = Tail(bootstrap, PAYMENTS_COMMANDS)

    def command(self, command: EscrowCommand) -> None:
        self.producer.send(
            ESCROW_COMMANDS, command.meta.escrow_id, mapping.COMMANDS.to_proto(command)
        )

    def payment_event(self, event: PaymentEvent) -> None:
        self.producer.send(
            PAYMENTS_EVENTS, event.meta.escrow_id, mapping.PAYMENT_EVENTS.to_proto(event)
        )

    def fund(self, escrow_id: str) -> None:
        """Creates an escrow and pays for it, as the payments topology would report."""
        self.command(create_escrow(escrow_id))
        self.wait_payment_command(escrow_id, CreatePaymentIntent)
        self.payment_event(payment_intent_created(escrow_id))
        self.payment_event(payment_succeeded(escrow_id))
        self.wait_event(escrow_id, EscrowFundsHeld)

    def events_of(self, escrow_id: str) -> list[EscrowEvent]:
        return [mapping.EVENTS.to_domain(e) for e in self.events.envelopes(escrow_id)]

    def payment_commands_of(self, escrow_id: str) -> list[PaymentCommand]:
        envelopes = self.payment_commands.envelopes(escrow_id)
        return [mapping.PAYMENT_COMMANDS.to_domain(e) for e in envelopes]

    def wait_events(
        self, escrow_id: str, done: Callable[[list[EscrowEvent]], bool], timeout_s: float = 60
    ) -> list[EscrowEvent]:
        self.events.wait_for(lambda _: done(self.events_of(escrow_id)), timeout_s)
        return self.events_of(escrow_id)

    def wait_event(self, escrow_id: str, kind: type, timeout_s: float = 60) -> Any:
        """The first event of type ``kind`` for the escrow."""
        events = self.wait_events(
            escrow_id, lambda es: any(isinstance(e, kind) for e in es), timeout_s
        )
        return next(e for e in events if isinstance(e, kind))

    def wait_payment_command(self, escrow_id: str, kind: type, timeout_s: float = 60) -> Any:
        self.payment_commands.wait_for(
            lambda _: any(isinstance(c, kind) for c in self.payment_commands_of(escrow_id)),
            timeout_s,
        )
        return next(c for c in self.payment_commands_of(escrow_id) if isinstance(c, kind))

    def close(self) -> None:
        self.events.close()
        self.payment_commands.close()
