"""Where each provider lives for a connection: the real service configured in settings,
or Herald's sandbox fake. The same adapter code talks to either."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from django.conf import settings

from herald.core.errors import InvalidInput
from herald.integrations.providers.base import ProviderEndpoints

__all__ = ["SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET", "provider_endpoints", "trusted_host"]

SANDBOX_CLIENT_ID = "herald-sandbox"
# Not a secret: the sandbox fake accepts it, nothing real does.
SANDBOX_CLIENT_SECRET = "herald-sandbox-secret"  # noqa: S105


def trusted_host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _google(sandbox: bool) -> ProviderEndpoints:
    config = settings.GOOGLE_ADS
    if sandbox:
        base = settings.HERALD_SANDBOX_GOOGLE_ADS_URL
        return ProviderEndpoints(
            provider="google_ads",
            client_id=SANDBOX_CLIENT_ID,
            client_secret=SANDBOX_CLIENT_SECRET,
            authorize_url=f"{base}/o/oauth2/v2/auth",
            token_url=f"{base}/token",
            revoke_url=f"{base}/revoke",
            api_url=base,
            api_version=config["api_version"],
            sandbox=True,
        )
    if not config["client_id"] or not config["client_secret"]:
        raise InvalidInput.single(
            "provider",
            "not_configured",
            "Google Ads is not configured on this Herald: set GOOGLE_ADS_CLIENT_ID and "
            "GOOGLE_ADS_CLIENT_SECRET, or connect a sandbox account.",
        )
    extra = {key: config[key] for key in ("developer_token", "login_customer_id") if config[key]}
    return ProviderEndpoints(
        provider="google_ads",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        authorize_url=config["authorize_url"],
        token_url=config["token_url"],
        revoke_url=config["revoke_url"],
        api_url=config["api_url"],
        api_version=config["api_version"],
        extra=extra,
    )


def _meta(sandbox: bool) -> ProviderEndpoints:
    config = settings.META_ADS
    version = config["api_version"]
    if sandbox:
        base = settings.HERALD_SANDBOX_META_ADS_URL
        return ProviderEndpoints(
            provider="meta_ads",
            client_id=SANDBOX_CLIENT_ID,
            client_secret=SANDBOX_CLIENT_SECRET,
            authorize_url=base,
            token_url=f"{base}/{version}/oauth/access_token",
            revoke_url=f"{base}/{version}/me/permissions",
            api_url=base,
            api_version=version,
            sandbox=True,
        )
    if not config["client_id"] or not config["client_secret"]:
        raise InvalidInput.single(
            "provider",
            "not_configured",
            "Meta Ads is not configured on this Herald: set META_APP_ID and META_APP_SECRET, "
            "or connect a sandbox account.",
        )
    return ProviderEndpoints(
        provider="meta_ads",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        authorize_url=config["authorize_url"],
        token_url=f"{config['api_url']}/{version}/oauth/access_token",
        revoke_url=f"{config['api_url']}/{version}/me/permissions",
        api_url=config["api_url"],
        api_version=version,
    )


_BUILDERS = {"google_ads": _google, "meta_ads": _meta}


def _with_timeout(endpoints: ProviderEndpoints) -> ProviderEndpoints:
    extra = {"timeout": str(settings.HERALD_PLATFORM_TIMEOUT_SECONDS), **endpoints.extra}
    return dataclasses.replace(endpoints, extra=extra)


def provider_endpoints(provider: str, *, sandbox: bool) -> ProviderEndpoints:
    if sandbox and not settings.HERALD_SANDBOX_ENABLED:
        raise InvalidInput.single(
            "sandbox", "disabled", "Sandbox connections are turned off on this Herald."
        )
    try:
        builder = _BUILDERS[provider]
    except KeyError:
        raise InvalidInput.single(
            "provider", "choice", f"{provider!r} is not a provider; use {', '.join(_BUILDERS)}."
        ) from None
    return _with_timeout(builder(sandbox))
