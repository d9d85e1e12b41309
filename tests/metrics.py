"""Reading a process's Prometheus ``/metrics`` in tests."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def scrape(port: int, sample: str, **labels: str) -> float:
    """The value of ``sample`` (e.g. ``x_total``) with ``labels`` served on ``port``; 0 when the
    process does not serve it (yet), or does not answer (yet)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0
