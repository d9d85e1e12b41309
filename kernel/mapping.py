"""Protobuf <-> domain, in one place: the generic conversion between frozen dataclasses and their
protobuf twins, and the mappers of the envelopes the kernel's messages travel in. The only kernel
module that imports the generated schemas.

A domain dataclass and its protobuf message share field names; types map as: ``str``/``int``/
``bool`` as they are, ``IntEnum`` by number, ``datetime`` (UTC) to ``google.protobuf.Timestamp``,
nested dataclasses to nested messages, ``tuple[str, ...]`` to repeated scalars, and ``X | None``
to an unset field (proto3 ``optional`` or a message field). Envelopes (one message with ``meta``
and a ``oneof``) map to the dataclass named like the set variant (``mark_delivered`` ->
``MarkDelivered``), whose ``meta`` field comes from the envelope.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, TypeVar, cast

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from kernel import messages
from schemas.escrow.v1.commands_pb2 import EscrowCommand as EscrowCommandProto
from schemas.escrow.v1.events_pb2 import EscrowEvent as EscrowEventProto
from schemas.payments.v1.commands_pb2 import PaymentCommand as PaymentCommandProto
from schemas.payments.v1.events_pb2 import PaymentEvent as PaymentEventProto

T = TypeVar("T")


def variant_name(cls: type) -> str:
    """``MarkDelivered`` -> ``mark_delivered``: the oneof field that carries ``cls``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class EnvelopeMapper:
    """Maps one envelope type (e.g. ``EscrowCommand``) to and from its domain dataclasses.

    :param envelope: the protobuf envelope class.
    :param classes: the domain classes, one per oneof variant (all of them: checked).
    :raises ValueError: a variant without a class, or a class without a variant.
    """

    def __init__(self, envelope: type[Message], classes: Iterable[type]) -> None:
        self.envelope = envelope
        self._oneof = envelope.DESCRIPTOR.oneofs[0].name
        self._classes = {variant_name(cls): cls for cls in classes}
        variants = {field.name for field in envelope.DESCRIPTOR.oneofs[0].fields}
        if variants != set(self._classes):
            raise ValueError(
                f"{envelope.__name__}: variants {variants} != classes {set(self._classes)}"
            )

    def to_domain(self, message: Any) -> Any:
        """:raises KeyError: the envelope holds no variant (decoders refuse those earlier)."""
        variant = message.WhichOneof(self._oneof)
        if variant is None:
            raise KeyError(f"{self.envelope.__name__} without a variant")
        cls = self._classes[variant]
        meta_type = _hints(cls)["meta"]
        return from_proto(getattr(message, variant), cls, meta=from_proto(message.meta, meta_type))

    def to_proto(self, value: Any) -> Message:
        envelope: Any = self.envelope()  # generated class: .meta exists on every envelope
        fill(envelope.meta, value.meta)
        body = getattr(envelope, variant_name(type(value)))
        body.SetInParent()
        fill(body, value, skip=("meta",))
        return cast(Message, envelope)


def from_proto(message: Message, cls: type[T], **given: Any) -> T:
    """A ``cls`` built from ``message``'s fields; ``given`` supplies fields the message lacks."""
    values = dict(given)
    for name, hint in _hints(cls).items():
        if name not in values:
            values[name] = _read(message, name, hint)
    return cls(**values)


def fill(message: Message, value: Any, skip: tuple[str, ...] = ()) -> None:
    """Sets ``message``'s fields from the dataclass ``value`` (except those named in ``skip``)."""
    for name, hint in _hints(type(value)).items():
        if name not in skip:
            _write(message, name, hint, getattr(value, name))


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved type of each dataclass field of ``cls`` (resolved once per class)."""
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {field.name: hints[field.name] for field in dataclasses.fields(cls)}
    return _HINTS[cls]


def _optional(hint: Any) -> Any | None:
    """For ``X | None`` return X, else None."""
    if isinstance(hint, types.UnionType) and type(None) in hint.__args__:
        return next(arg for arg in hint.__args__ if arg is not type(None))
    return None


def _read(message: Message, name: str, hint: Any) -> Any:
    inner = _optional(hint)
    if inner is not None:
        return _read(message, name, inner) if message.HasField(name) else None
    raw = getattr(message, name)
    if hint is datetime:
        return cast(Timestamp, raw).ToDatetime(tzinfo=UTC)
    if typing.get_origin(hint) is tuple:
        return tuple(raw)
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return hint(raw)
    if dataclasses.is_dataclass(hint):
        return from_proto(raw, cast(type, hint))
    return raw


def _write(message: Message, name: str, hint: Any, value: Any) -> None:
    inner = _optional(hint)
    if inner is not None:
        if value is not None:
            _write(message, name, inner, value)
        return
    if hint is datetime:
        getattr(message, name).FromDatetime(value)
    elif typing.get_origin(hint) is tuple:
        getattr(message, name).extend(value)
    elif dataclasses.is_dataclass(hint):
        target = getattr(message, name)
        target.SetInParent()
        fill(target, value)
    else:
        setattr(message, name, int(value) if isinstance(value, IntEnum) else value)


# The envelopes of escrow.commands.v1, escrow.events.v1, payments.commands.v1, payments.events.v1.
COMMANDS = EnvelopeMapper(EscrowCommandProto, typing.get_args(messages.EscrowCommand))
EVENTS = EnvelopeMapper(EscrowEventProto, typing.get_args(messages.EscrowEvent))
PAYMENT_COMMANDS = EnvelopeMapper(PaymentCommandProto, typing.get_args(messages.PaymentCommand))
PAYMENT_EVENTS = EnvelopeMapper(PaymentEventProto, typing.get_args(messages.PaymentEvent))
