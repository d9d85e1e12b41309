"""The alert rules parse, and name only metrics the processes export (or the Kafka exporter's)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import gateway.routes.health  # noqa: F401 - registers the gateway's metrics
import gateway.routes.webhooks  # noqa: F401
import topologies.metrics  # noqa: F401

RULES = Path(__file__).resolve().parents[2] / "infra" / "prometheus" / "alerts.yml"
EXTERNAL = {"kafka_consumergroup_lag"}


def test_every_alert_names_exported_metrics() -> None:
    rules = [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]
    exported = {
        f"{metric.name}_total" if metric.type == "counter" else metric.name
        for metric in REGISTRY.collect()
    }

    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        names = set(re.findall(r"\b([a-z_]+_(?:total|lag))\b", rule["expr"]))
        assert names and names <= exported | EXTERNAL, (rule["alert"], names - exported)
