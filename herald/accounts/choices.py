"""Roles and permissions: the one table every API operation and UI view checks."""

from __future__ import annotations

from enum import StrEnum

from django.db import models

__all__ = ["PERMISSION_TABLE", "Permission", "Role", "role_allows"]


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Permission(StrEnum):
    ORGANIZATION_VIEW = "organization.view"
    ORGANIZATION_EDIT = "organization.edit"
    ORGANIZATION_DELETE = "organization.delete"
    MEMBER_VIEW = "member.view"
    MEMBER_MANAGE = "member.manage"
    API_KEY_MANAGE_OWN = "api_key.manage_own"
    API_KEY_MANAGE_ALL = "api_key.manage_all"
    INTEGRATION_VIEW = "integration.view"
    INTEGRATION_MANAGE = "integration.manage"
    CAMPAIGN_VIEW = "campaign.view"
    CAMPAIGN_EDIT = "campaign.edit"
    CAMPAIGN_OPERATE = "campaign.operate"


_EVERYONE = frozenset(Role)
_EDITORS = frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR})
_ADMINS = frozenset({Role.OWNER, Role.ADMIN})
_OWNERS = frozenset({Role.OWNER})

# Which roles hold each permission. Owners can do everything, admins everything but
# deleting the organization, editors build and run campaigns, viewers only read.
PERMISSION_TABLE: dict[Permission, frozenset[Role]] = {
    Permission.ORGANIZATION_VIEW: _EVERYONE,
    Permission.ORGANIZATION_EDIT: _ADMINS,
    Permission.ORGANIZATION_DELETE: _OWNERS,
    Permission.MEMBER_VIEW: _EVERYONE,
    Permission.MEMBER_MANAGE: _ADMINS,
    Permission.API_KEY_MANAGE_OWN: _EVERYONE,
    Permission.API_KEY_MANAGE_ALL: _ADMINS,
    Permission.INTEGRATION_VIEW: _EVERYONE,
    Permission.INTEGRATION_MANAGE: _ADMINS,
    Permission.CAMPAIGN_VIEW: _EVERYONE,
    Permission.CAMPAIGN_EDIT: _EDITORS,
    Permission.CAMPAIGN_OPERATE: _EDITORS,
}


def role_allows(role: str, permission: Permission) -> bool:
    return role in PERMISSION_TABLE[permission]
