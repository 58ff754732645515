"""The channel registry: which channels a campaign unit can belong to.

A channel is a way to reach people (``google_ads``, ``meta_ads``; later owned placements
and message sends). Each is registered once with what the rest of Herald needs to
know about it; code asks the registry instead of testing channel names, so a later
capability adds a channel by registering it, without touching campaigns.

Do not branch on channel keys elsewhere: add a field here instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from herald.core.errors import InvalidInput

if TYPE_CHECKING:
    from herald.campaigns.models import Campaign

__all__ = [
    "AccountUnavailable",
    "Channel",
    "all_channels",
    "channel_keys",
    "get_channel",
    "register_channel",
    "validate_channel",
]


class AccountUnavailable(Exception):
    """Raised by an ``ad_account_resolver``: the campaign chose an account, but it cannot
    be used now (its connection needs reconnecting, say). The message says why."""


@dataclass(frozen=True)
class Channel:
    key: str
    label: str
    # What a unit is called on this channel: "ad group" on Google, "ad set" on Meta.
    unit_label: str
    # Paid platforms need an ad account chosen per campaign before launch.
    requires_ad_account: bool
    # Returns the adapter that pushes units of this channel to its platform, or None
    # while no adapter is installed. Resolved lazily so registering a channel never
    # imports its provider package.
    adapter_factory: Callable[[], Any] | None = None
    # Returns the external account a campaign uses on this channel, None when it has
    # none, or raises AccountUnavailable. Installed by the integrations capability.
    ad_account_resolver: Callable[[Campaign], Any] | None = None


_REGISTRY: dict[str, Channel] = {}


def register_channel(channel: Channel, *, replace: bool = False) -> None:
    if channel.key in _REGISTRY and not replace:
        raise ValueError(f"Channel {channel.key!r} is already registered.")
    _REGISTRY[channel.key] = channel


def get_channel(key: str) -> Channel:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"Unknown channel {key!r}") from None


def all_channels() -> Iterator[Channel]:
    return iter(sorted(_REGISTRY.values(), key=lambda channel: channel.key))


def channel_keys() -> list[str]:
    return sorted(_REGISTRY)


def validate_channel(value: str, *, field: str = "channel") -> Channel:
    channel = _REGISTRY.get(value)
    if channel is None:
        raise InvalidInput.single(
            field, "choice", f"{value!r} is not a channel; use one of {', '.join(channel_keys())}."
        )
    return channel


register_channel(
    Channel(key="google_ads", label="Google Ads", unit_label="ad group", requires_ad_account=True)
)
register_channel(
    Channel(key="meta_ads", label="Meta Ads", unit_label="ad set", requires_ad_account=True)
)
