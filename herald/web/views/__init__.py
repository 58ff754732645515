"""Server-rendered pages, one module per area. They read through selectors and write
through services, exactly like the API: no rule is written twice."""

from herald.web.views.campaigns import campaign_accounts, campaign_action, campaign_detail, home
from herald.web.views.connections import connection_action, connections
from herald.web.views.organization import switch_organization

__all__ = [
    "campaign_accounts",
    "campaign_action",
    "campaign_detail",
    "connection_action",
    "connections",
    "home",
    "switch_organization",
]
