"""Topology processes for integration tests: the real ``escrow-streams run <name>`` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

# Consumer groups of the tests' processes; set TEST_GROUP_PREFIX to run beside another test run
# on the same broker (processes in one group share its partitions).
TEST_GROUP_PREFIX = os.environ.get("TEST_GROUP_PREFIX", "escrow-streams-test")


class TopologyProcess:
    """One ``escrow-streams run <name>`` process with its own state dir and log file."""

    def __init__(self, name: str, state_dir: Path, log: Path, **env: str) -> None:
        self.name, self.state_dir, self.log = name, state_dir, log
        self._env = {
            **os.environ,
            "STATE_DIR": str(state_dir),
            "CONSUMER_GROUP_PREFIX": TEST_GROUP_PREFIX,
            "METRICS_PORT": "0",
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> TopologyProcess:
        command = [sys.executable, "-m", "topologies.cli", "run", self.name]
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(command, env=self._env, stdout=out, stderr=out)
        return self

    def stop(self) -> None:
        """SIGTERM: Quix finishes the current checkpoint and leaves the group."""
        self._signal(signal.SIGTERM, wait_s=60)

    def kill(self) -> None:
        """SIGKILL: a crash; the open transaction is aborted by the broker."""
        self._signal(signal.SIGKILL, wait_s=10)

    def _signal(self, sig: int, wait_s: float) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(sig)
        try:
            self._process.wait(wait_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
