"""Server-rendered pages, one module per area. They read through selectors and write
through services, exactly like the API: no rule is written twice."""

from herald.web.views.builder import (
    builder_new,
    builder_step,
    creative_preview,
    creative_studio,
    creative_upload,
)
from herald.web.views.campaigns import (
    campaign_accounts,
    campaign_action,
    campaign_detail,
    campaign_list,
    campaign_platforms,
    campaign_trend,
)
from herald.web.views.connections import connection_action, connections
from herald.web.views.dashboard import dashboard
from herald.web.views.organization import switch_organization
from herald.web.views.settings import (
    settings_api_key_create,
    settings_api_key_revoke,
    settings_member_add,
    settings_member_remove,
    settings_member_role,
    settings_organization,
    settings_organization_delete,
    settings_page,
)

__all__ = [
    "builder_new",
    "builder_step",
    "campaign_accounts",
    "campaign_action",
    "campaign_detail",
    "campaign_list",
    "campaign_platforms",
    "campaign_trend",
    "connection_action",
    "connections",
    "creative_preview",
    "creative_studio",
    "creative_upload",
    "dashboard",
    "settings_api_key_create",
    "settings_api_key_revoke",
    "settings_member_add",
    "settings_member_remove",
    "settings_member_role",
    "settings_organization",
    "settings_organization_delete",
    "settings_page",
    "switch_organization",
]
