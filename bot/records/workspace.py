"""Which workspace a request, a watch or a key belongs to: the unit of isolation.

An org-wide install (Enterprise Grid, `is_enterprise_install`) is one installation for the
whole enterprise, so its enterprise id is the key for every workspace in it; any other install
is keyed by its team id. Every store key, cache, lease and limit that belongs to a workspace is
scoped by this key, and Redis keeps each workspace's keys under one hash tag built from it.
"""

from __future__ import annotations


def workspace_key(team_id: str | None, enterprise_id: str | None, org_wide: bool) -> str:
    """The isolation key: the enterprise for an org-wide install, else the team."""
    if org_wide and enterprise_id:
        return enterprise_id
    return team_id or enterprise_id or ""
