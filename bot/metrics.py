"""Prometheus metrics, on a registry of the app's own (no global state between app instances)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "taskstatus_slack_requests",
            "Slack requests handled",
            ["surface"],
            registry=self.registry,
        )
        self.answers = Counter(
            "taskstatus_answers",
            "Answers delivered",
            ["surface", "outcome"],
            registry=self.registry,
        )
        self.upstream = Counter(
            "taskstatus_task_api_calls", "Task API calls", ["outcome"], registry=self.registry
        )
        self.watch_updates = Counter(
            "taskstatus_watch_updates", "Live message updates", ["outcome"], registry=self.registry
        )
        self.watches = Gauge("taskstatus_watches_open", "Open watches", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
