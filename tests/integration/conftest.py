from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.escrow_harness import EscrowHarness
from tests.processes import TopologyProcess

ProcessFactory = Callable[..., TopologyProcess]


@pytest.fixture
def start_topology(tmp_path: Path) -> Iterator[ProcessFactory]:
    """Starts ``escrow-streams run <name>`` processes; stops them all after the test."""
    started: list[TopologyProcess] = []

    def start(name: str, instance: str = "a", **env: str) -> TopologyProcess:
        state_dir = tmp_path / f"state-{name}-{instance}"
        process = TopologyProcess(name, state_dir, tmp_path / f"{name}-{instance}.log", **env)
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def escrow_harness(bootstrap_servers: str) -> Iterator[EscrowHarness]:
    harness = EscrowHarness(bootstrap_servers)
    yield harness
    harness.close()
