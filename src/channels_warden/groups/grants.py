"""What a policy answers: allow, deny, or a :class:`Grant` with an end and metadata.

A grant is the record of one permission to hear one group. Its ``expires_at`` is when the socket
leaves the group by itself (a trial that ends, a booking that finishes); its ``metadata`` is what
the application wants to remember about the membership (a role, a display name for presence). Both
are kept with the membership on the socket's connection.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ..exceptions import WardenError

#: Public reasons of a refused join, sent in ``warden.denied`` frames (never more precise than this).
DENIAL_REASONS = ("forbidden", "unauthenticated", "bad_request", "too_many", "internal")


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission to hear a group, possibly until ``expires_at``, with ``metadata``.

    Args:
        expires_at: Unix time (or an aware ``datetime``) at which the membership ends; ``None``:
            it lasts as long as the socket, unless revoked or re-checked away.
        metadata: read-only data kept with the membership (for presence, for the application).
    """

    expires_at: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        if isinstance(self.expires_at, datetime):
            object.__setattr__(self, "expires_at", self.expires_at.timestamp())
        elif self.expires_at is not None and not isinstance(self.expires_at, int | float):
            raise TypeError(f"Grant.expires_at must be a Unix time or a datetime, not {self.expires_at!r}")
        if not isinstance(self.metadata, MappingProxyType):
            object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @classmethod
    def for_seconds(cls, seconds: float, **metadata: Any) -> Grant:
        """A grant that ends ``seconds`` from now."""
        return cls(expires_at=time.time() + seconds, metadata=metadata)

    def expired(self, now: float | None = None) -> bool:
        """Whether the grant has ended (a policy answering an ended grant denies the join)."""
        return self.expires_at is not None and self.expires_at <= (time.time() if now is None else now)


class GroupDenied(WardenError):
    """A socket may not join ``group``. The socket stays open; only the join failed.

    Args:
        group: the group name that was refused (as the caller gave it, truncated for the log).
        reason: one of :data:`DENIAL_REASONS`, the word a client sees in ``warden.denied``.
        detail: what exactly refused it, for the server log only.
    """

    def __init__(self, group: str, reason: str = "forbidden", detail: str = "") -> None:
        if reason not in DENIAL_REASONS:
            raise ValueError(f"GroupDenied reason must be one of {DENIAL_REASONS}, not {reason!r}")
        self.group = group
        self.reason = reason
        self.detail = detail or reason
        super().__init__(f"group {group[:100]!r} refused: {self.detail}")

    def frame(self) -> dict[str, Any]:
        """The ``warden.denied`` frame for a client."""
        return {"type": "warden.denied", "group": self.group[:100], "reason": self.reason}
