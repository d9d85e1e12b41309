"""The broker supports what exactly-once needs: transactional writes and read_committed reads."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Message, Producer

from tests.fixtures import TopicFactory
from tests.kafka import make_consumer, read_until

pytestmark = pytest.mark.integration


def _transactional_producer(bootstrap: str) -> Producer:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": f"test-{uuid.uuid4().hex}",
            "transaction.timeout.ms": 10000,
        }
    )
    producer.init_transactions(30)
    return producer


def _values(messages: list[Message]) -> list[bytes]:
    return [m.value() for m in messages]


def _reader(bootstrap: str, topic: str, *, read_committed: bool) -> Consumer:
    consumer = make_consumer(bootstrap, read_committed=read_committed)
    consumer.subscribe([topic])
    return consumer


def test_a_transactional_write_is_invisible_until_commit(
    bootstrap_servers: str, new_topic: TopicFactory
) -> None:
    topic = new_topic("txn")
    producer = _transactional_producer(bootstrap_servers)
    committed = _reader(bootstrap_servers, topic, read_committed=True)
    uncommitted = _reader(bootstrap_servers, topic, read_committed=False)

    producer.begin_transaction()
    producer.produce(topic, value=b"pending")
    producer.flush(10)

    # The record is on the log (a read_uncommitted reader sees it) ...
    assert _values(read_until(uncommitted, lambda got: len(got) >= 1)) == [b"pending"]
    # ... while the read_committed reader, polled for the same while, gets nothing.
    assert read_until(committed, lambda got: len(got) >= 1, timeout_s=3) == []

    producer.commit_transaction(30)

    assert _values(read_until(committed, lambda got: len(got) >= 1)) == [b"pending"]
    committed.close()
    uncommitted.close()


def test_an_aborted_write_never_appears(bootstrap_servers: str, new_topic: TopicFactory) -> None:
    topic = new_topic("txn")
    producer = _transactional_producer(bootstrap_servers)
    producer.begin_transaction()
    producer.produce(topic, value=b"aborted")
    producer.flush(10)
    producer.abort_transaction(30)
    # A committed marker after the aborted one: once the reader sees it, it has passed the abort.
    producer.begin_transaction()
    producer.produce(topic, value=b"marker")
    producer.commit_transaction(30)
    committed = _reader(bootstrap_servers, topic, read_committed=True)

    seen = read_until(committed, lambda got: b"marker" in _values(got))

    assert _values(seen) == [b"marker"]
    committed.close()
