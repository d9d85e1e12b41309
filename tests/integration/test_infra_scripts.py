"""infra/ scripts are idempotent: `up` twice runs one process, `down` leaves none.

Runs a second broker (and stripe-mock) on their own ports and state dirs, beside the ones the
rest of the suite uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _processes_matching(marker: str) -> int:
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                count += 1
        except OSError:  # the process ended while we looked
            continue
    return count


def _run(script: str, action: str, env: dict[str, str]) -> None:
    subprocess.run(["bash", str(INFRA / script), action], env=env, check=True, timeout=180)


def test_kafka_up_twice_runs_one_broker_and_down_leaves_none(tmp_path: Path) -> None:
    state = tmp_path / "kafka"
    env = {
        **os.environ,
        "KAFKA_PORT": "19092",
        "KAFKA_STATE_DIR": str(state),
        "PYTHON": sys.executable,
    }
    marker = f"kafka.Kafka {state}/server.properties"
    try:
        _run("kafka/broker.sh", "up", env)
        _run("kafka/broker.sh", "up", env)
        assert _processes_matching(marker) == 1
    finally:
        _run("kafka/broker.sh", "down", env)
    assert _processes_matching(marker) == 0
    assert "Kafka Server started" in (state / "logs" / "broker.out").read_text()


def test_stripe_mock_up_twice_runs_one_server_and_down_leaves_none(tmp_path: Path) -> None:
    env = {**os.environ, "STRIPE_MOCK_PORT": "12199", "ESCROW_RUN_DIR": str(tmp_path)}
    marker = "-http-addr 127.0.0.1:12199"
    try:
        _run("stripe-mock/stripe-mock.sh", "up", env)
        _run("stripe-mock/stripe-mock.sh", "up", env)
        assert _processes_matching(marker) == 1
    finally:
        _run("stripe-mock/stripe-mock.sh", "down", env)
    assert _processes_matching(marker) == 0
