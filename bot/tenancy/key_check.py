"""Keys checked with one real lookup before they are saved (the connect modal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.taskapi.errors import ApiRejected, ApiUnavailable
from bot.taskapi.models import Failed
from bot.tenancy.accounts import Accounts, Keys

# A UID nobody has: the vendor answers RetCode 0 (and no task) when the keys are good.
PROBE_UID = "taskstatus-connect-check"
KEY_REJECTED = frozenset({171, 172})  # the vendor's "unknown public key" and "bad signature"

Verdict = Literal["good", "rejected", "refused", "unavailable"]


@dataclass(frozen=True)
class KeyCheck:
    verdict: Verdict
    detail: str = ""  # the API's own words (RetCode and message), or what went wrong
    request_uuid: str = ""


async def check_keys(accounts: Accounts, keys: Keys, timeout: float) -> KeyCheck:
    """One `ListGenerateTaskDetail` with these keys: no retry, no cache, `timeout` seconds.

    `rejected`: RetCode 171/172 (the keys are wrong); `refused`: any other refusal (the
    call was answered, but not with success); `unavailable`: no answer in time.
    """
    client = accounts.build(keys, timeout=timeout, retries=0, cache_size=0, concurrency=1)
    [result] = await client.get_tasks([PROBE_UID])
    if not isinstance(result, Failed):
        return KeyCheck("good")
    error = result.error
    if isinstance(error, ApiRejected) and error.ret_code in KEY_REJECTED:
        return KeyCheck("rejected", error.detail, error.request_uuid)
    if isinstance(error, ApiUnavailable):
        return KeyCheck("unavailable", error.detail, error.request_uuid)
    return KeyCheck("refused", error.detail, error.request_uuid)
