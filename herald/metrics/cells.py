"""The identity of a fact cell: its dimensions hashed into ``cell_key``."""

from __future__ import annotations

import hashlib

__all__ = ["cell_key"]


def cell_key(
    *,
    campaign_id: object,
    unit_id: object | None,
    creative_id: object | None,
    channel: str,
    placement: str,
    device: str,
) -> str:
    """A stable 64-hex key for the dimensions (the same on every database)."""
    parts = [
        str(campaign_id),
        str(unit_id or ""),
        str(creative_id or ""),
        channel,
        placement,
        device,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
