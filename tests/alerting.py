"""Evaluating an alert rule of ``infra/prometheus/alerts.yml`` against two scrapes of a process's
``/metrics``, for tests: a tiny evaluator of the one form the counter rules take,
``sum by (<labels>) (increase(<counter>[<range>])) > <threshold>``, where the increase is the
difference between the scrapes (both inside the rule's range)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

RULES = Path(__file__).resolve().parents[1] / "infra" / "prometheus" / "alerts.yml"
_FORM = re.compile(
    r"^sum by \((?P<by>[\w, ]+)\) \(increase\((?P<metric>\w+)\[\w+\]\)\) > (?P<threshold>[\d.]+)$"
)

Samples = dict[tuple[tuple[str, str], ...], float]


def rule_expr(alert: str) -> str:
    """The ``expr`` of the rule named ``alert``."""
    rules = [r for group in yaml.safe_load(RULES.read_text())["groups"] for r in group["rules"]]
    return str(next(r["expr"] for r in rules if r["alert"] == alert)).strip()


def scrape(url: str, metric: str) -> Samples:
    """The samples of counter ``metric`` (its ``_total`` series) at ``url``, by label set."""
    text = httpx.get(url, timeout=5).text
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == metric
    }


def metric_of(expr: str) -> str:
    return _parsed(expr)["metric"]


def firing(expr: str, before: Samples, after: Samples) -> set[tuple[str, ...]]:
    """The label values (in the rule's ``by`` order) for which ``expr`` holds, given the scrapes
    at the start and the end of the range.

    :raises ValueError: ``expr`` is not of the form this evaluator knows.
    """
    form = _parsed(expr)
    by = [name.strip() for name in form["by"].split(",")]
    sums: dict[tuple[str, ...], float] = defaultdict(float)
    for labels, value in after.items():
        named = dict(labels)
        sums[tuple(named.get(name, "") for name in by)] += value - before.get(labels, 0.0)
    return {group for group, total in sums.items() if total > float(form["threshold"])}


def _parsed(expr: str) -> dict[str, str]:
    match = _FORM.match(" ".join(expr.split()))
    if match is None:
        raise ValueError(f"not a rule of the form this evaluator knows: {expr}")
    return match.groupdict()
