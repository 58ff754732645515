"""The contract between Herald and one ad platform, free of Django models.

A provider package (``providers/<name>/``) holds a wire client, a fake server that speaks
the same wire protocol, and an adapter implementing ``ProviderAdapter``. The
integrations services build the typed inputs below from Herald's models, hand them to
the adapter, and persist what comes back; adapters never touch the database.

Money crosses this boundary as ``Decimal`` in major units of the account currency;
adapters convert to micros or minor units themselves. Dates are ``datetime.date`` in
the account's time zone; times are aware datetimes.

Errors: adapters raise ``ProviderError`` with a ``kind`` that decides what Herald does:
retry later (``RATE_LIMITED``, ``TRANSIENT``, honouring ``retry_after``), ask the user to
reconnect (``AUTH``), or report the platform's message against the right unit or
creative (``VALIDATION``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

__all__ = [
    "BudgetPlan",
    "CreativePlan",
    "DailyMetricRow",
    "ErrorKind",
    "LaunchPlan",
    "LaunchRecorder",
    "OAuthTokens",
    "PlatformRefs",
    "ProviderAdapter",
    "ProviderEndpoints",
    "ProviderError",
    "ProviderSession",
    "RemoteAccount",
    "UnitPlan",
]


class ErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # retry after ``retry_after`` seconds
    TRANSIENT = "transient"  # 5xx, timeouts, connection errors: retry with backoff
    AUTH = "auth"  # token expired/revoked/invalid: refresh once, then reconnect
    PERMISSION = "permission"  # the account does not allow it: tell the user
    VALIDATION = "validation"  # the platform refused the content: tell the user
    NOT_FOUND = "not_found"  # an object we recorded no longer exists
    AMBIGUOUS = "ambiguous"  # timed out after sending a create: it may exist now


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        retry_after: float | None = None,
        unit_id: UUID | None = None,
        creative_id: UUID | None = None,
        platform_code: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retry_after = retry_after
        self.unit_id = unit_id
        self.creative_id = creative_id
        self.platform_code = platform_code

    @property
    def retryable(self) -> bool:
        return self.kind in {ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT, ErrorKind.AMBIGUOUS}


@dataclass(frozen=True)
class ProviderEndpoints:
    """Where a provider lives and who Herald is to it: the real service, or a fake."""

    provider: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str
    api_url: str  # base, without version: https://googleads.googleapis.com
    api_version: str
    sandbox: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # e.g. developer_token


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteAccount:
    external_id: str  # Google: "1234567890"; Meta: "act_123"
    name: str
    currency: str
    time_zone: str
    status: str  # "active", "disabled", "closed", "pending" …
    extra: dict[str, str] = field(default_factory=dict)  # e.g. Meta page_id


@dataclass(frozen=True)
class ProviderSession:
    """An authenticated view of one ad account."""

    endpoints: ProviderEndpoints
    access_token: str
    account_external_id: str
    account_currency: str
    account_time_zone: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetPlan:
    kind: str  # "daily" | "lifetime"
    amount: Decimal  # this channel's allocation, major units of the account currency
    currency: str


@dataclass(frozen=True)
class CreativePlan:
    creative_id: UUID
    label: str  # Herald's own name for the platform object, unique and searchable
    headlines: tuple[str, ...]
    descriptions: tuple[str, ...]
    primary_text: str
    display_path: tuple[str, ...]
    destination_url: str
    call_to_action: str
    image_name: str | None = None
    image_bytes: bytes | None = None
    external_id: str = ""  # the ad, when it already exists
    external_refs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitPlan:
    unit_id: UUID
    label: str
    audience_rules: dict[str, Any] | None
    budget_amount: Decimal | None  # the unit's own share, if any
    creatives: tuple[CreativePlan, ...]
    external_id: str = ""  # the ad group / ad set, when it already exists


@dataclass(frozen=True)
class LaunchPlan:
    """What to build on one platform for one campaign. ``external_id``s filled in are
    objects an earlier attempt already created: adapters reuse them."""

    campaign_id: UUID
    label: str  # e.g. "Spicy Jalapeño Chips [herald 1a2b3c4d]"
    objective: str
    start_at: datetime | None
    end_at: datetime | None
    time_zone: str
    budget: BudgetPlan
    units: tuple[UnitPlan, ...]
    external_id: str = ""
    external_refs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlatformRefs:
    """The platform objects of a launched campaign, for pause, resume and budgets."""

    campaign_external_id: str
    campaign_refs: dict[str, str]
    unit_external_ids: tuple[str, ...]


@dataclass(frozen=True)
class DailyMetricRow:
    """One day of one platform campaign (and ad group / ad set when given), normalized:
    spend in major units of the account currency, conversions possibly fractional."""

    campaign_external_id: str
    unit_external_id: str | None
    day: date
    impressions: int
    clicks: int
    spend: Decimal
    conversions: Decimal
    conversion_value: Decimal


class LaunchRecorder(Protocol):
    """Persists each external id the moment the platform returns it, so a retry after a
    crash or timeout reuses the object instead of creating a second one."""

    def campaign_created(self, external_id: str, refs: dict[str, str]) -> None: ...

    def unit_created(self, unit_id: UUID, external_id: str) -> None: ...

    def creative_created(
        self, creative_id: UUID, external_id: str, refs: dict[str, str]
    ) -> None: ...


class ProviderAdapter(Protocol):
    provider: str

    def authorization_url(
        self, *, endpoints: ProviderEndpoints, state: str, redirect_uri: str
    ) -> str: ...

    def exchange_code(
        self, *, endpoints: ProviderEndpoints, code: str, redirect_uri: str
    ) -> OAuthTokens: ...

    def refresh(self, *, endpoints: ProviderEndpoints, refresh_token: str) -> OAuthTokens: ...

    def revoke(self, *, endpoints: ProviderEndpoints, token: str) -> None: ...

    def list_accounts(
        self, *, endpoints: ProviderEndpoints, access_token: str
    ) -> list[RemoteAccount]: ...

    def launch(
        self, *, session: ProviderSession, plan: LaunchPlan, recorder: LaunchRecorder
    ) -> None: ...

    def set_active(self, *, session: ProviderSession, refs: PlatformRefs, active: bool) -> None: ...

    def update_budget(
        self, *, session: ProviderSession, refs: PlatformRefs, budget: BudgetPlan
    ) -> None: ...

    def fetch_metrics(
        self, *, session: ProviderSession, date_from: date, date_to: date
    ) -> list[DailyMetricRow]: ...
