"""The provider registry: one adapter per external ad platform, found by key."""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from herald.integrations.providers.base import ProviderAdapter

__all__ = ["PROVIDERS", "get_adapter"]

# Dotted paths, imported on first use, so loading Herald never imports a provider.
PROVIDERS: dict[str, str] = {
    "google_ads": "herald.integrations.providers.google_ads.adapter.GoogleAdsAdapter",
    "meta_ads": "herald.integrations.providers.meta_ads.adapter.MetaAdsAdapter",
}


@cache
def get_adapter(provider: str) -> ProviderAdapter:
    adapter: ProviderAdapter = import_string(PROVIDERS[provider])()
    return adapter
