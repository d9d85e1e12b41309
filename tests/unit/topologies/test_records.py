"""Every record a topology cannot hold as a domain message is a dead letter with a reason, never
an exception that stops the topology (issue: poison on every input topic)."""

from __future__ import annotations

from typing import cast

import pytest

from connectors.exceptions import DeserializationError
from connectors.topics import ESCROW_COMMANDS, PAYMENTS_EVENTS
from kernel import mapping
from kernel.messages import CreateEscrow
from schemas.escrow.v1.events_pb2 import EscrowEvent
from tests.builders import create_escrow
from tests.envelopes import framed, resolve_dispute
from topologies.records import Decoder

COMMANDS = Decoder(ESCROW_COMMANDS, mapping.COMMANDS, lambda m: m.meta.escrow_id)


def test_a_good_record_decodes() -> None:
    command = COMMANDS.decode(
        b"esc-1", framed(mapping.COMMANDS.to_proto(create_escrow("esc-1")), ESCROW_COMMANDS)
    )

    assert isinstance(command, CreateEscrow)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (b"esc-1", b"random bytes", "magic byte"),
        (b"esc-1", b"\x00\x00\x00\x00\x07garbled", "Error"),
        (
            b"esc-1",
            lambda: framed(resolve_dispute("esc-1", 99), ESCROW_COMMANDS),
            "99 is not a valid DisputeResolution",
        ),
        (
            b"esc-2",
            lambda: framed(mapping.COMMANDS.to_proto(create_escrow("esc-1")), ESCROW_COMMANDS),
            "key",
        ),
        (
            b"",
            lambda: framed(mapping.COMMANDS.to_proto(create_escrow("")), ESCROW_COMMANDS),
            "empty id",
        ),
        (b"esc-1", lambda: framed(EscrowEvent(), PAYMENTS_EVENTS), "no variant"),
    ],
    ids=["random", "garbled", "unknown-enum", "wrong-key", "empty-id", "wrong-envelope"],
)
def test_a_poison_record_is_a_deserialization_error_with_its_reason(
    key: bytes, value: bytes | object, reason: str
) -> None:
    data = value() if callable(value) else value

    with pytest.raises(DeserializationError, match=reason):
        COMMANDS.decode(key, cast(bytes, data))
