"""Everything a handler needs, built once at start and passed in (no module-level globals)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.ops.metrics import Metrics
from bot.slack.basics.limits import LookupLimiter
from bot.slack.delivery.deliver import Delivery
from bot.slack.delivery.home_tab import HomeTab
from bot.slack.delivery.slack_clients import OneWorkspace, SlackClients
from bot.slack.delivery.steps import StepTokens
from bot.slack.delivery.tracker import Tracker
from bot.store import Store
from bot.tenancy.accounts import Accounts
from bot.watch.scheduler import Watcher


@dataclass
class Deps:
    settings: Settings
    accounts: Accounts  # the task API client of each workspace (`client_for(ws)`)
    store: Store
    delivery: Delivery
    tracker: Tracker
    metrics: Metrics
    watcher: Watcher
    home_team: str = ""
    bot_user_id: str = ""
    home: HomeTab | None = None  # refreshes people's App Home when their watches change
    clock: Callable[[], float] = time.time  # follow windows; tests pass a clock of their own
    lookups: LookupLimiter = field(default_factory=lambda: LookupLimiter(0))
    # Workflow Builder steps: seals each execution's token for the store (SECRETS_KEY).
    step_tokens: StepTokens = field(default_factory=lambda: StepTokens(None))
    # Many workspaces: each workspace's Slack client for work outside a request.
    slack_clients: SlackClients = field(default_factory=lambda: OneWorkspace(None))
