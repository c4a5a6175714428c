"""A workspace's own task API account, as the store keeps it: the private key sealed."""

from __future__ import annotations

from pydantic import BaseModel


class TaskAccount(BaseModel):
    """The keys a workspace connected (`/taskstatus connect`), per workspace key (the
    enterprise for an org-wide install). The private key is kept only sealed with
    `SECRETS_KEY` (`bot.store.keyring`); the public key travels in every request anyway and
    is kept plain, so the Home tab can say which account is connected."""

    public_key: str
    sealed_private_key: str
    connected_by: str = ""
    connected_at: float = 0.0

    def __repr__(self) -> str:
        return (
            f"TaskAccount(public_key={self.public_key[:6]!r}…, connected_by={self.connected_by!r})"
        )

    __str__ = __repr__
