"""Slack's request signature, checked on the raw bytes before anything is decoded.

Hand-written rather than slack_sdk's `SignatureVerifier` for two reasons: it decodes the body
as UTF-8 before hashing (invalid bytes raise, and work is done before the signature is known
good), and it calls `int()` on the timestamp unguarded (`abc`, `1e10`, 4,000 digits raise).
Same scheme: ``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re

MAX_AGE = 5 * 60  # seconds either way, as Slack recommends
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def header_problem(timestamp: str | None, signature: str | None, now: float) -> str | None:
    """Why the headers alone already fail (no body needed), or None."""
    if not signature:
        return "no signature"
    if not timestamp:
        return "no timestamp"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp is not a plain integer"
    if abs(now - int(timestamp)) > MAX_AGE:
        return "timestamp is more than five minutes off"
    if not _SIGNATURE.fullmatch(signature):
        return "signature is not of the form v0=<hex>"
    return None


def signature_matches(secret: bytes, timestamp: str, signature: str, body: bytes) -> bool:
    """Call only after `header_problem` returned None."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii"))
