"""Plugs the paid platforms into the campaign channel registry: each paid channel gets
this app's adapter and its way of finding the campaign's ad account."""

from __future__ import annotations

import dataclasses
from typing import Any

from herald.campaigns.channels import get_channel, register_channel
from herald.campaigns.models import Campaign
from herald.integrations.providers import PROVIDERS
from herald.integrations.services.accounts import campaign_ad_account
from herald.integrations.services.launching import PlatformChannelAdapter

__all__: list[str] = []


def _resolver(channel_key: str) -> Any:
    def resolve(campaign: Campaign) -> object | None:
        return campaign_ad_account(campaign, channel_key)

    return resolve


def _factory(channel_key: str) -> Any:
    return lambda: PlatformChannelAdapter(provider=channel_key)


for _key in PROVIDERS:
    register_channel(
        dataclasses.replace(
            get_channel(_key), adapter_factory=_factory(_key), ad_account_resolver=_resolver(_key)
        ),
        replace=True,
    )
