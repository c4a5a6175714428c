"""Secrets at rest: every token and private key the store keeps is sealed with Fernet.

`SECRETS_KEY` holds comma-separated keys. The first seals; every one opens, so an operator
rotates by putting a new key first, letting `reseal` rewrite what is stored, then dropping the
old key. `cryptography`'s `MultiFernet` does exactly this; the class only keeps plain text out
of reprs and turns a token no key opens into one clear error.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealError(Exception):
    """A sealed value that none of the configured keys opens (a key was dropped too soon)."""


class Keyring:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ValueError("SECRETS_KEY holds no key")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])

    def __repr__(self) -> str:
        return "Keyring(<hidden>)"

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SealError("a stored secret opens with none of SECRETS_KEY's keys") from None

    def reseal(self, sealed: str) -> str:
        """The same secret sealed with the first key (rotation), without showing it."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SealError("a stored secret opens with none of SECRETS_KEY's keys") from None
