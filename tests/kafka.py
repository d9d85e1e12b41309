"""Helpers for tests that talk to the real broker: read a topic with a deadline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, Message


def make_consumer(bootstrap: str, *, read_committed: bool = True) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed" if read_committed else "read_uncommitted",
        }
    )


def read_until(
    consumer: Consumer,
    done: Callable[[list[Message]], bool],
    timeout_s: float = 30.0,
) -> list[Message]:
    """Polls ``consumer`` until ``done(messages)`` holds or ``timeout_s`` passes; returns all."""
    messages: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while not done(messages) and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            raise RuntimeError(str(message.error()))
        messages.append(message)
    return messages


def read_n(bootstrap: str, topic: str, n: int, timeout_s: float = 30.0) -> list[Message]:
    """The first ``n`` committed records of ``topic`` (fewer if the deadline passes first)."""
    consumer = make_consumer(bootstrap)
    consumer.subscribe([topic])
    try:
        return read_until(consumer, lambda got: len(got) >= n, timeout_s)
    finally:
        consumer.close()
