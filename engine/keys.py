"""API keys as the center knows them: a SHA-256 digest, a role, and a life.

A key's public id is the first 12 hex digits of its digest: showing it reveals
nothing of the key (the digest is one-way), it needs no new journal field (a key
journaled before ids existed has one too), and the audit's `by` label
("role:<8 hex>") is a prefix of it, so an audit line leads to its key.
"""

from __future__ import annotations

from dataclasses import dataclass

ID_LENGTH = 12


def key_id(key_hash: str) -> str:
    return key_hash[:ID_LENGTH]


@dataclass(slots=True)
class ApiKey:
    id: str
    role: str
    agent_id: str | None
    created_at: int
    revoked_at: int | None = None
    revoked_by: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
