"""Protobuf <-> domain for everything the escrow topology reads and writes (with app.py, the only
escrow module that imports the generated schemas)."""

from __future__ import annotations

import typing

from kernel import messages
from kernel.proto_mapping import EnvelopeMapper
from schemas.escrow.v1.commands_pb2 import EscrowCommand as EscrowCommandProto
from schemas.escrow.v1.events_pb2 import EscrowEvent as EscrowEventProto
from schemas.payments.v1.commands_pb2 import PaymentCommand as PaymentCommandProto
from schemas.payments.v1.events_pb2 import PaymentEvent as PaymentEventProto

COMMANDS = EnvelopeMapper(EscrowCommandProto, typing.get_args(messages.EscrowCommand))
EVENTS = EnvelopeMapper(EscrowEventProto, typing.get_args(messages.EscrowEvent))
PAYMENT_COMMANDS = EnvelopeMapper(PaymentCommandProto, typing.get_args(messages.PaymentCommand))
PAYMENT_EVENTS = EnvelopeMapper(PaymentEventProto, typing.get_args(messages.PaymentEvent))
