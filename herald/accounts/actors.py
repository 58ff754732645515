"""Who is acting: a member through the UI, a member through an API key, or the system.

Services receive an ``Actor`` and never look at the request. The execution log records
the actor's kind and identity; permission checks read the actor's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from herald.accounts.choices import Permission, role_allows
from herald.core.errors import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from herald.accounts.models import ApiKey, Organization

__all__ = ["Actor", "ActorKind"]


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    organization: Organization
    kind: ActorKind
    role: str | None = None
    user: User | None = None
    api_key: ApiKey | None = None

    @classmethod
    def system(cls, organization: Organization) -> Actor:
        return cls(organization=organization, kind=ActorKind.SYSTEM)

    def can(self, permission: Permission) -> bool:
        if self.kind is ActorKind.SYSTEM:
            return True
        return self.role is not None and role_allows(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Raise ``PermissionDenied`` unless the actor's role holds ``permission``."""
        if not self.can(permission):
            raise PermissionDenied(
                detail=f"Your role ({self.role}) does not allow this action "
                f"(needs the {permission.value} permission)."
            )

    @property
    def label(self) -> str:
        if self.kind is ActorKind.SYSTEM:
            return "system"
        identity = self.user.get_username() if self.user is not None else "unknown"
        if self.kind is ActorKind.API_KEY and self.api_key is not None:
            return f"{identity} (API key {self.api_key.prefix})"
        return identity
