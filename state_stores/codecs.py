"""State-store value codecs: the bytes a store holds are a versioned protobuf, never JSON."""

from __future__ import annotations

from kernel.mapping import fill, from_proto
from kernel.model import Escrow
from schemas.escrow.v1.state_pb2 import EscrowState


def encode_escrow(escrow: Escrow) -> bytes:
    """An ``Escrow`` as ``escrow.v1.EscrowState`` bytes."""
    message = EscrowState()
    fill(message, escrow)
    return message.SerializeToString(deterministic=True)


def decode_escrow(data: bytes) -> Escrow:
    """:raises google.protobuf.message.DecodeError: bytes that are not an ``EscrowState``."""
    return from_proto(EscrowState.FromString(data), Escrow)
