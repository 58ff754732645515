"""Template context shared by every page: the member's organizations and role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from herald.accounts.choices import Permission
from herald.accounts.selectors import user_organizations

__all__ = ["navigation"]


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None or not request.user.is_authenticated:
        return {}
    return {
        "current_organization": actor.organization,
        "current_role": actor.role,
        "organizations": list(user_organizations(user=request.user)),
        "can_edit_campaigns": actor.can(Permission.CAMPAIGN_EDIT),
        "can_manage_members": actor.can(Permission.MEMBER_MANAGE),
    }
