"""The completion of a "Wait for tasks" step: its execution's token, kept sealed, and the one
`functions.completeSuccess` or `functions.completeError` made with it.

The token is the event's `bot_access_token`: it is used for the `functions.*` call and
nothing else, through a client made for that one call (never a kept one, so no other request
is ever made with it). It is always sealed: with `SECRETS_KEY` when that is set, like every
secret the store keeps, else with a key derived from a Slack secret every replica shares
(`step_keyring`); the scheduler drops it when the watch ends (`bot.watch.machine`).

Exactly once: the scheduler writes "notifying" durably before calling `complete`, and a
process that takes a watch over sends the completion again rather than search for it, since
Slack refuses a second completion of an execution (`function_execution_not_found` or
`execution_not_in_running_state`), which is taken as done. A token that no longer works
(the execution completed, or its 15 minutes are over) ends the watch too: nothing could
complete it any more. When the completion may have been sent already (a takeover, or an
earlier try whose answer was lost), that answer most likely means Slack completed it, and
the scheduler counts the step as done (`bot.watch.scheduler`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.records.watch import Step, Watch
from bot.render.step import step_outputs, timeout_error
from bot.slack.delivery.deliver import slack_error
from bot.slack.delivery.observed_client import copy_client
from bot.store.keyring import Keyring, SealError
from bot.taskapi.models import TaskResult
from bot.watch.publisher import DEAD_TOKEN, SlackTrouble

log = logging.getLogger(__name__)

# What Slack answers a second completion of an execution: it is already complete.
ALREADY_COMPLETE = frozenset({"function_execution_not_found", "execution_not_in_running_state"})
_SEALED, _PLAIN = "sealed:", "plain:"
_DERIVED_INFO = b"task-status-bot step execution token"


def step_keyring(settings: Settings) -> Keyring | None:
    """`SECRETS_KEY` when set; else a Fernet key derived (HKDF-SHA256) from a secret every
    replica of one deployment shares: the signing secret, else the app token, else the bot
    token, else the OAuth client secret. So a step's token is never kept in plain text, and
    any replica opens what another sealed. None only when no secret is configured at all."""
    if settings.secrets_key is not None:
        return Keyring(settings.secrets_key.get_secret_value())
    shared = (
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_bot_token,
        settings.slack_client_secret,
    )
    for secret in shared:
        if secret is not None and secret.get_secret_value():
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVED_INFO)
            key = derived.derive(secret.get_secret_value().encode())
            return Keyring(base64.urlsafe_b64encode(key).decode())
    return None


class StepTokens:
    """Seals an execution's token for the store and opens it again (see `Keyring`)."""

    def __init__(self, keyring: Keyring | None) -> None:
        self._keyring = keyring

    def seal(self, token: str) -> str:
        """Sealed whenever a key exists (`step_keyring`: always, once Slack is configured)."""
        if self._keyring is None:
            return _PLAIN + token
        return _SEALED + self._keyring.seal(token)

    def open(self, kept: str) -> str | None:
        """The token, or None when there is none (dropped) or no key opens it. A `plain:`
        token is one an older version kept (at most 15 minutes old): still read."""
        if kept.startswith(_PLAIN):
            return kept.removeprefix(_PLAIN) or None
        if not kept.startswith(_SEALED) or self._keyring is None:
            return None
        try:
            return self._keyring.open(kept.removeprefix(_SEALED))
        except SealError:
            return None


class StepCompleter:
    """Completes a step watch's execution; `client` is the notice's own (no transport
    retry, a short timeout, no wait for held scopes: `bot.slack.delivery.pacing.sent_once`)."""

    def __init__(self, client: AsyncWebClient, tokens: StepTokens) -> None:
        self._client = client
        self.tokens = tokens

    async def complete(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        """Returns once the execution is complete (now, or by an earlier call); raises
        `SlackTrouble` when it never can be, and Slack's other refusals and transport errors
        as they come, for the caller to sort like any notice's."""
        step = watch.step
        assert step is not None
        token = self.tokens.open(step.token)
        if token is None:
            raise SlackTrouble("never", "the execution's token is gone or no key opens it")
        # A client for this call alone, never kept. No team id: the execution's token names
        # its workspace (and a watch's `team_id` is an enterprise for an org-wide install).
        client = copy_client(self._client, token, None)
        try:
            if step.timed_out:
                error = timeout_error(step.timeout / 60, results)
                await client.functions_completeError(
                    function_execution_id=step.execution_id, error=error
                )
            else:
                await client.functions_completeSuccess(
                    function_execution_id=step.execution_id, outputs=step_outputs(results)
                )
        except SlackApiError as exc:
            _sort(step, exc)


def _sort(step: Step, exc: SlackApiError) -> None:
    """A refused completion: already complete is done; a dead token can never complete."""
    error = slack_error(exc)
    if error in ALREADY_COMPLETE:
        log.info("step %s: already complete (%s)", step.execution_id, error)
        return
    if error in DEAD_TOKEN:
        raise SlackTrouble("never", error) from exc
    raise exc  # sorted with every other notice's trouble (`bot.slack.delivery.live.trouble`)
