"""The shipped Grafana dashboard only queries metrics the bot exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.ops.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parent.parent / "monitoring" / "grafana-dashboard.json"


def test_every_queried_metric_exists() -> None:
    exported = {
        sample.name for family in Metrics().registry.collect() for sample in family.samples
    } | {family.name for family in Metrics().registry.collect()}
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"taskstatus_\w+", target["expr"])
    }
    assert len(queried) >= 15
    missing = {
        name
        for name in queried
        if name not in exported and re.sub(r"_(bucket|sum|count|total)$", "", name) not in exported
    }
    assert not missing
