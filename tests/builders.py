"""Builders of test data. Ids are random so that test runs can share one broker."""

from __future__ import annotations

import uuid


def random_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def random_escrow_id() -> str:
    return random_id("esc")


def random_topic(name: str = "test") -> str:
    return random_id(f"test.{name}")
