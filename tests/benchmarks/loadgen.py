"""Load for the ladder and latency benchmarks, each generator meant to run in a process of its own
(``harness.in_own_process``), never in the process that measures.

    preload(...)          # the ladder: every input of a rung, as fast as the broker takes them
    paced_commands(...)   # latency: CreateEscrow at a constant arrival rate (open loop)
    paced_webhooks(...)   # latency: signed Stripe payment_intent.succeeded webhooks, same

Inputs are what the escrow topology and its neighbours really exchange: one escrow's CreateEscrow,
the events and payment command ``decide`` answers it with, built once through the domain and
mapping and then stamped per escrow (its id, key and message id), so generating costs little.
Escrow ids are ``<prefix>-<index>``: the measuring process recognises its load by the prefix and
the paced generators agree on which escrow a webhook pays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from functools import cache
from multiprocessing.connection import Connection

import httpx
from confluent_kafka import Producer
from google.protobuf.message import Message

from connectors.kafka_config import producer_config
from connectors.kafka_serdes import EnvelopeSerializer, schema_registry, value_context
from kernel import mapping
from schemas.escrow.v1.commands_pb2 import EscrowCommand
from schemas.escrow.v1.events_pb2 import EscrowEvent
from schemas.payments.v1.commands_pb2 import PaymentCommand
from tests.builders import NOW, create_escrow
from tests.provider_fakes.provider_webhooks import JSON, stripe_event, stripe_signature
from topologies.escrow.decide import decide

CREATE_ESCROW = "create-escrow"
NEW_ESCROW_EVENTS = "new-escrow-events"  # EscrowCreated + EscrowAwaitFunds
CREATE_PAYMENT_INTENT = "create-payment-intent"
ENVELOPE_OF = {
    CREATE_ESCROW: EscrowCommand,
    NEW_ESCROW_EVENTS: EscrowEvent,
    CREATE_PAYMENT_INTENT: PaymentCommand,
}
AMOUNT_CENTS = 500_000  # the builders' Stripe-rail escrow
WEBHOOK_TIMEOUT_S = 10
WEBHOOK_CONNECTIONS = 64


def escrow_id(prefix: str, index: int) -> str:
    return f"{prefix}-{index:07d}"


def index_of(escrow: str) -> int:
    return int(escrow.rsplit("-", 1)[1])


@cache
def templates(kind: str) -> list[Message]:
    """The envelopes one escrow contributes to a load of ``kind``."""
    command = create_escrow("template")
    decision = decide(None, command, NOW)
    by_kind = {
        CREATE_ESCROW: [mapping.COMMANDS.to_proto(command)],
        NEW_ESCROW_EVENTS: [mapping.EVENTS.to_proto(e) for e in decision.events],
        CREATE_PAYMENT_INTENT: [
            mapping.PAYMENT_COMMANDS.to_proto(c) for c in decision.payment_commands
        ],
    }
    return by_kind[kind]


class Records:
    """Serialized inputs of ``kind`` for ``topic``, one escrow at a time."""

    def __init__(self, kind: str, topic: str) -> None:
        self._templates = templates(kind)
        self._serialize = EnvelopeSerializer(ENVELOPE_OF[kind], schema_registry(None))
        self._context = value_context(topic)

    def of(self, escrow: str) -> list[bytes]:
        return [
            self._serialize(_stamped(template, escrow, n), self._context)
            for n, template in enumerate(self._templates)
        ]


def _stamped(template: Message, escrow: str, n: int) -> Message:
    # Contract ids and the rest stay the template's: no consumer here keys anything by them.
    message = type(template)()
    message.CopyFrom(template)
    meta = message.meta  # type: ignore[attr-defined]
    meta.escrow_id = escrow
    id_field = "command_id" if "command_id" in meta.DESCRIPTOR.fields_by_name else "event_id"
    setattr(meta, id_field, f"{escrow}/{n}")
    return message


def preload(bootstrap: str, topic: str, kind: str, prefix: str, escrows: int) -> None:
    """Produces the inputs of ``escrows`` escrows to ``topic`` and waits for every ack."""
    producer = Producer({**producer_config(bootstrap), "linger.ms": 20})
    records = Records(kind, topic)
    for index in range(escrows):
        key = escrow_id(prefix, index)
        for value in records.of(key):
            _produce(producer, topic, key, value)
    if producer.flush(120) != 0:
        raise RuntimeError(f"preload of {topic}: not every record was acknowledged")


def _produce(producer: Producer, topic: str, key: str, value: bytes) -> None:
    while True:
        try:
            producer.produce(topic, key=key, value=value)
            break
        except BufferError:  # the local queue is full: let deliveries drain it
            producer.poll(0.1)
    producer.poll(0)


class Schedule:
    """Open loop: item ``i`` is due at ``start + i / rate`` whatever happened to the items
    before it; ``lags_s`` records how late each one actually went."""

    def __init__(self, rate: float, seconds: float, start: float) -> None:
        self.due = [start + i / rate for i in range(int(rate * seconds))]
        self.lags_s: list[float] = []

    def items(self) -> Iterator[int]:
        for index, due in enumerate(self.due):
            time.sleep(max(0.0, due - time.monotonic()))
            self.lags_s.append(time.monotonic() - due)
            yield index


def paced_commands(
    bootstrap: str, topic: str, prefix: str, rate: float, seconds: float, conn: Connection
) -> None:
    """Sends CreateEscrow for escrows ``0..rate*seconds`` at ``rate``/s from the start time the
    measuring process sends on ``conn``; answers ``(sent_at by escrow id, lags_s, failed)``,
    failed meaning not acknowledged by the broker."""
    producer = Producer({**producer_config(bootstrap), "linger.ms": 1})
    records = Records(CREATE_ESCROW, topic)
    schedule = Schedule(rate, seconds, _started(conn))
    sent_at: dict[str, float] = {}
    for index in schedule.items():
        key = escrow_id(prefix, index)
        producer.produce(topic, key=key, value=records.of(key)[0])
        sent_at[key] = time.monotonic()
        producer.poll(0)
    conn.send((sent_at, schedule.lags_s, producer.flush(60)))


def paced_webhooks(
    gateway_url: str,
    secret: str,
    prefix: str,
    command_rate: float,
    seconds: float,
    every: int,
    conn: Connection,
) -> None:
    """POSTs a signed ``payment_intent.succeeded`` for every ``every``-th escrow of
    ``paced_commands`` (same ``prefix``, ``command_rate``, ``seconds``), one second after its
    CreateEscrow was due; answers ``(posted_at, lags_s, failed, answered_at)``: by escrow id, when
    each POST the gateway answered 2xx went and when the answer came; failed, how many got another
    answer or none within ``WEBHOOK_TIMEOUT_S``."""
    asyncio.run(_post_all(gateway_url, secret, prefix, command_rate / every, seconds, every, conn))


async def _post_all(
    url: str, secret: str, prefix: str, rate: float, seconds: float, every: int, conn: Connection
) -> None:
    posted_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    # Requests queued inside httpx's pool cost CPU quadratically: they wait for a connection
    # here instead, and a webhook that waits for one is behind its schedule.
    connections = asyncio.Semaphore(WEBHOOK_CONNECTIONS)
    limits = httpx.Limits(max_connections=WEBHOOK_CONNECTIONS)
    # The client exists before the start: making one loads a CA bundle, which takes a while.
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=WEBHOOK_TIMEOUT_S) as client:
        schedule = Schedule(rate, seconds, _started(conn) + 1.0)

        async def post(index: int) -> bool:
            escrow = escrow_id(prefix, index * every)
            body = stripe_event("payment_intent.succeeded", f"pi_{escrow}", escrow, AMOUNT_CENTS)
            headers = {"Stripe-Signature": stripe_signature(secret, body), **JSON}
            await asyncio.sleep(max(0.0, schedule.due[index] - time.monotonic()))
            async with connections:
                posted = time.monotonic()
                schedule.lags_s.append(posted - schedule.due[index])
                try:
                    answer = await client.post(
                        "/api/webhooks/stripe", content=body, headers=headers
                    )
                except httpx.HTTPError:
                    return False
            if answer.is_success:
                posted_at[escrow], answered_at[escrow] = posted, time.monotonic()
            return answer.is_success

        went = await asyncio.gather(*(post(i) for i in range(len(schedule.due))))
    conn.send((posted_at, schedule.lags_s, went.count(False), answered_at))


def _started(conn: Connection) -> float:
    """Tells the measuring process this generator is ready; returns the start time it answers."""
    conn.send("ready")
    start: float = conn.recv()
    return start
