"""The interface between Herald's campaigns and a channel's platform.

Each channel in the registry may name an adapter (``Channel.adapter_factory``). The
launch task hands the adapter one channel's units and their current creatives and gets
back the external ids it created; pause, resume and budget changes go the same way.
Adapters raise ``AdapterError`` saying whether a retry could help and, for platform
validation errors, which unit or creative the message belongs to.

Adapters talk to the outside world: they are only ever called from tasks, after the
transaction that asked for the change has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from herald.campaigns.models import AdCreative, Campaign, CampaignUnit

__all__ = ["AdapterError", "ChannelAdapter", "ChannelLaunchResult"]


@dataclass
class ChannelLaunchResult:
    """External ids created (or found) on the platform, keyed by Herald ids."""

    campaign_external_id: str
    unit_external_ids: dict[UUID, str] = field(default_factory=dict)
    creative_external_ids: dict[UUID, str] = field(default_factory=dict)


class AdapterError(Exception):
    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        needs_reauth: bool = False,
        unit_id: UUID | None = None,
        creative_id: UUID | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.needs_reauth = needs_reauth
        self.unit_id = unit_id
        self.creative_id = creative_id


class ChannelAdapter(Protocol):
    def launch(
        self,
        *,
        campaign: Campaign,
        units: list[CampaignUnit],
        creatives: dict[UUID, list[AdCreative]],
    ) -> ChannelLaunchResult: ...

    def pause(self, *, campaign: Campaign, units: list[CampaignUnit]) -> None: ...

    def resume(self, *, campaign: Campaign, units: list[CampaignUnit]) -> None: ...

    def update_budget(self, *, campaign: Campaign, units: list[CampaignUnit]) -> None: ...
