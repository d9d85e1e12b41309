from __future__ import annotations

import pytest
from google.protobuf.message import Message

from connectors.exceptions import DeserializationError, UnknownVariantError
from connectors.kafka_serdes import (
    EnvelopeDeserializer,
    EnvelopeSerializer,
    schema_registry,
    value_context,
    variant_of,
)
from connectors.topics import ESCROW_COMMANDS
from schemas.escrow.v1.commands_pb2 import EscrowCommand
from tests.envelopes import every_variant

SAMPLES = list(every_variant())


def _serialize(topic: str, message: Message) -> bytes:
    return EnvelopeSerializer(type(message), schema_registry(None))(message, value_context(topic))


@pytest.mark.parametrize(
    ("topic", "message"), SAMPLES, ids=[f"{t}:{variant_of(m)}" for t, m in SAMPLES]
)
def test_every_variant_round_trips(topic: str, message: Message) -> None:
    data = _serialize(topic, message)

    decoded = EnvelopeDeserializer(type(message))(data, value_context(topic))

    assert data[0] == 0  # Confluent magic byte
    assert decoded == message


def test_an_unknown_variant_is_a_clear_error() -> None:
    # A newer producer's variant (field 99) that this code does not know.
    data = _serialize(ESCROW_COMMANDS, EscrowCommand()) + bytes([0x9A, 0x06, 0x00])

    with pytest.raises(UnknownVariantError, match="holds no variant this version knows"):
        EnvelopeDeserializer(EscrowCommand)(data, value_context(ESCROW_COMMANDS))


def test_a_corrupt_payload_is_a_clear_error() -> None:
    framing = _serialize(ESCROW_COMMANDS, EscrowCommand())[:6]

    with pytest.raises(
        DeserializationError, match=f"cannot deserialize a record of {ESCROW_COMMANDS}"
    ):
        EnvelopeDeserializer(EscrowCommand)(
            framing + b"\xff\xff\xff", value_context(ESCROW_COMMANDS)
        )


@pytest.mark.parametrize("data", [b"", b'{"json": true}', b"\x01\x00\x00\x00\x01"])
def test_bytes_without_confluent_framing_are_refused(data: bytes) -> None:
    with pytest.raises(DeserializationError, match="magic byte"):
        EnvelopeDeserializer(EscrowCommand)(data, value_context(ESCROW_COMMANDS))
