"""The ``/api/v1/`` API: every app's router mounted on one NinjaAPI."""

from __future__ import annotations

from herald.accounts.api import router as accounts_router
from herald.campaigns.api import router as campaigns_router
from herald.core.api import build_api
from herald.integrations.api import router as integrations_router
from herald.metrics.api import router as metrics_router
from herald.tracking.api import router as tracking_router

__all__ = ["api"]

api = build_api()
api.add_router("/", accounts_router)
api.add_router("/", campaigns_router)
api.add_router("/", integrations_router)
api.add_router("/", tracking_router)
api.add_router("/", metrics_router)
