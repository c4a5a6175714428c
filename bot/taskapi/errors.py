"""Failures of the task API, each with the `request_uuid` the vendor's support asks for."""

from __future__ import annotations


class TaskApiError(Exception):
    """Base of every upstream failure; `str()` is safe to show (no keys, no signatures)."""

    kind = "error"

    def __init__(self, detail: str, request_uuid: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.request_uuid = request_uuid


class ApiUnavailable(TaskApiError):
    """Could not reach the API, it timed out, or it answered 5xx/429. Worth retrying."""

    kind = "unavailable"


class ApiUnreachable(ApiUnavailable):
    """No connection at all (name unknown, connection refused, TLS failed): unlike a timeout
    or a 5xx, an API that never answers points at its URL or this host's network."""


class ApiRejected(TaskApiError):
    """The API answered with a non-zero `RetCode` (bad key, signature, quota...)."""

    kind = "rejected"

    def __init__(self, detail: str, request_uuid: str, ret_code: int | None) -> None:
        super().__init__(detail, request_uuid)
        self.ret_code = ret_code


class ApiUnreadable(TaskApiError):
    """The API answered something that is not the documented JSON, or far too much of it."""

    kind = "unreadable"
