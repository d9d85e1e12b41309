from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from tests.builders import random_topic

TopicFactory = Callable[..., str]


@pytest.fixture
def new_topic(admin: AdminClient) -> Iterator[TopicFactory]:
    """Creates uniquely named topics for one test and deletes them afterwards."""
    created: list[str] = []

    def create(name: str = "test", partitions: int = 1) -> str:
        topic = random_topic(name)
        for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
            future.result()
        created.append(topic)
        return topic

    yield create
    if created:
        for future in admin.delete_topics(created).values():
            future.result()
