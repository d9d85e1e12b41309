"""The escrow domain stays pure: no Kafka, Quix, protobuf, HTTP or provider imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = ["model.py", "messages.py", "decide.py", "evolve.py"]
FORBIDDEN = (
    "quixstreams",
    "confluent_kafka",
    "google.protobuf",
    "schemas",
    "stripe",
    "httpx",
    "starlette",
    "rocksdict",
)
ESCROW = Path(__file__).resolve().parents[4] / "topologies" / "escrow"


@pytest.mark.parametrize("module", DOMAIN)
def test_the_domain_imports_no_infrastructure(module: str) -> None:
    tree = ast.parse((ESCROW / module).read_text())
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    ]
    assert not [name for name in imported if name.startswith(FORBIDDEN)]
