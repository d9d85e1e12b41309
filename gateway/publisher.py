"""Producing records from the gateway and awaiting the broker's acknowledgement (acks=all)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from google.protobuf.message import Message as ProtoMessage

from connectors.kafka_config import producer_config
from connectors.kafka_serdes import ENVELOPES, EnvelopeSerializer, schema_registry, value_context
from gateway.ports import PublishError


class KafkaPublisher:
    """The ``Publisher`` port on confluent-kafka.

    :param bootstrap_servers: the cluster.
    :param registry_url: Schema Registry, or None for the in-process mock registry.
    :param timeout_s: how long ``publish`` waits for the acknowledgement.
    :param security: how to authenticate (``KafkaSettings.kafka_security()``).
    """

    def __init__(
        self,
        bootstrap_servers: str,
        registry_url: str | None,
        timeout_s: float,
        security: Mapping[str, str] | None = None,
    ) -> None:
        self._producer = Producer(producer_config(bootstrap_servers, security))
        self._registry = schema_registry(registry_url)
        self._serializers = {t: EnvelopeSerializer(e, self._registry) for t, e in ENVELOPES.items()}
        self._timeout_s = timeout_s
        self._running = True
        # Delivery callbacks run inside poll(): a thread keeps polling.
        self._poller = threading.Thread(target=self._poll, daemon=True, name="kafka-publisher")
        self._poller.start()

    async def publish(self, topic: str, key: str, envelope: ProtoMessage) -> None:
        loop = asyncio.get_running_loop()
        acknowledged: asyncio.Future[None] = loop.create_future()

        def delivered(error: KafkaError | None, message: Message) -> None:
            loop.call_soon_threadsafe(_settle, acknowledged, error)

        value = self._serializers[topic](envelope, value_context(topic))
        try:
            self._producer.produce(topic, key=key, value=value, on_delivery=delivered)
        except BufferError as exc:  # the local queue is full: the broker is behind or away
            raise PublishError(f"{topic}: producer queue full") from exc
        try:
            await asyncio.wait_for(acknowledged, self._timeout_s)
        except TimeoutError as exc:
            raise PublishError(f"{topic}: no acknowledgement in {self._timeout_s} s") from exc

    def close(self) -> None:
        self._producer.flush(self._timeout_s)
        self._running = False
        self._poller.join(5)

    def _poll(self) -> None:
        while self._running:
            self._producer.poll(0.05)


def _settle(future: asyncio.Future[None], error: Any) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(PublishError(str(error)))
    else:
        future.set_result(None)
