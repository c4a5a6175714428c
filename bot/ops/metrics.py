"""Prometheus metrics, on a registry of the app's own (no global state between app instances)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, disable_created_metrics, generate_latest

from bot.ops.busiest import BusiestWorkspaces
from bot.ops.metric_children import Counter, Histogram

# Seconds: from a few milliseconds (an ack) to a minute (an answer behind an API outage).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
UID_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class Metrics:
    def __init__(self) -> None:
        # No `_created` series: one more series per counter and histogram child, which no
        # dashboard or alert here reads. The switch is prometheus-client's own and
        # process-wide, so it is thrown here, at start-up, rather than on import.
        disable_created_metrics()  # type: ignore[no-untyped-call]
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
        # The same figure by `Watch.mode` (`all`, `errors`, `step`: a bounded set).
        self.watches_by_mode = Gauge(
            "taskstatus_watches_open_by_mode",
            "Open watches held by this process, by mode",
            ["mode"],
            registry=self.registry,
        )
        self._operator_metrics()
        # Per-workspace figures go to a log line, never to a label (`bot.ops.busiest`).
        self.workspaces = BusiestWorkspaces()

    def _operator_metrics(self) -> None:
        """What an on-call person looks at: latencies, errors, saturation (docs/monitoring.md)."""
        self.ack_latency = Histogram(
            "taskstatus_ack_seconds",
            "From a Slack request reaching the app to its acknowledgement",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.answer_latency = Histogram(
            "taskstatus_answer_seconds",
            "From a Slack request reaching the app to its answer delivered",
            ["surface"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.task_api_latency = Histogram(
            "taskstatus_task_api_call_seconds",
            "One task API call (one attempt), by lane and outcome",
            ["lane", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.task_api_uids = Histogram(
            "taskstatus_task_api_call_uids",
            "UIDs asked for in one task API call",
            ["lane"],
            buckets=UID_BUCKETS,
            registry=self.registry,
        )
        self.cache_lookups = Counter(
            "taskstatus_task_cache_lookups",
            "UIDs looked for in the finished-task cache, by result (hit or miss)",
            ["result"],
            registry=self.registry,
        )
        self.tick_duration = Histogram(
            "taskstatus_watch_tick_seconds",
            "One watch tick: poll every due watch and edit what changed",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tick_lag = Histogram(
            "taskstatus_watch_tick_lag_seconds",
            "How late a watch tick started after its poll interval",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "taskstatus_slack_api_errors",
            "Slack Web API calls (and response_url posts) that failed, by method and error",
            ["method", "error"],
            registry=self.registry,
        )
        self.lookups_limited = Counter(
            "taskstatus_lookups_limited",
            "Lookups refused by the per-person rate limit",
            registry=self.registry,
        )
        self.store_size = Gauge(
            "taskstatus_store_items",
            "Items in the state store (claims, UID sets, watches), sampled every"
            " STORE_SIZE_INTERVAL seconds",
            registry=self.registry,
        )
        self._takeovers_seen = 0
        self.lease_takeovers = Counter(
            "taskstatus_watch_lease_takeovers",
            "Watches whose lease this process took over from another (expired) holder",
            registry=self.registry,
        )

    # -- bot.taskapi.client.CallObserver -------------------------------------------------------

    def call_done(self, lane: str, outcome: str, seconds: float, uids: int) -> None:
        self.task_api_latency.labels(lane, outcome).observe(seconds)
        self.task_api_uids.labels(lane).observe(uids)

    def cache_lookup(self, hit: bool) -> None:
        self.cache_lookups.labels("hit" if hit else "miss").inc()

    def tick_done(self, seconds: float, lag: float, takeovers: int | None = None) -> None:
        """One watch tick; `takeovers` is the watcher's running count of leases taken over."""
        self.tick_duration.observe(seconds)
        self.tick_lag.observe(lag)
        if takeovers is not None and takeovers > self._takeovers_seen:
            self.lease_takeovers.inc(takeovers - self._takeovers_seen)
            self._takeovers_seen = takeovers

    def render(self) -> bytes:
        return generate_latest(self.registry)
