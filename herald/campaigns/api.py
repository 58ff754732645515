"""REST API of the campaign domain: translate HTTP to services and back, nothing more.

Every handler resolves objects through the caller's organization (another
organization's id answers 404), declares its permission with ``@requires`` and the
problem responses it can give.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.urls import register_converter
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns import selectors
from herald.campaigns.audience_rules import audience_rules_validate, audience_summary
from herald.campaigns.capabilities import (
    PLATFORM_CAPABILITIES,
    CreativeInput,
    MediaFacts,
    display_url,
    link_domain,
    validate_creative,
)
from herald.campaigns.channels import all_channels, validate_channel
from herald.campaigns.choices import BudgetKind, CampaignStatus, Objective
from herald.campaigns.lifecycle import allowed_actions
from herald.campaigns.models import (
    AdCreative,
    Audience,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    KpiTarget,
    MediaAsset,
)
from herald.campaigns.services import lifecycle
from herald.campaigns.services.audiences import (
    audience_create,
    audience_delete,
    audience_get_for_actor,
    audience_update,
)
from herald.campaigns.services.budgets import budget_reallocate, budget_set
from herald.campaigns.services.campaigns import (
    campaign_create,
    campaign_delete,
    campaign_duplicate,
    campaign_get_for_actor,
    campaign_update,
)
from herald.campaigns.services.creatives import (
    creative_create,
    creative_delete,
    creative_findings,
    creative_get_for_actor,
    creative_update,
)
from herald.campaigns.services.kpis import kpi_delete, kpi_set
from herald.campaigns.services.media import media_delete, media_get_for_actor, media_upload
from herald.campaigns.services.units import (
    unit_create,
    unit_delete,
    unit_get_for_actor,
    unit_update,
)
from herald.core.api import Page, PageQuery, paginate, problems, requires
from herald.core.errors import InvalidInput, NotFound
from herald.core.money import quantize_amount
from herald.metrics.definitions import METRICS

__all__ = ["router"]

router = Router(tags=["campaigns"])


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


# ---------------------------------------------------------------- campaigns


class BudgetOut(Schema):
    kind: BudgetKind
    amount: Decimal
    currency: str
    allocations: dict[str, Decimal]
    allocated: Decimal
    unallocated: Decimal


def _budget_out(budget: CampaignBudget | None) -> BudgetOut | None:
    if budget is None:
        return None
    currency = budget.currency
    allocations = {a.channel: quantize_amount(a.amount, currency) for a in budget.allocations.all()}
    allocated = sum(allocations.values(), Decimal(0))
    return BudgetOut(
        kind=BudgetKind(budget.kind),
        amount=quantize_amount(budget.amount, currency),
        currency=currency,
        allocations=allocations,
        allocated=quantize_amount(allocated, currency),
        unallocated=quantize_amount(budget.amount - allocated, currency),
    )


class CampaignOut(Schema):
    id: UUID
    name: str
    description: str
    objective: Objective
    status: CampaignStatus
    start_at: datetime | None
    end_at: datetime | None
    time_zone: str
    currency: str
    tags: list[str]
    channels: list[str]
    budget: BudgetOut | None
    allowed_actions: list[str] = Field(description="Lifecycle actions the status allows now.")
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime | None
    pause_reason: str
    cancel_reason: str
    error_message: str

    @staticmethod
    def resolve_channels(campaign: Campaign) -> list[str]:
        return sorted({unit.channel for unit in campaign.units.all()})

    @staticmethod
    def resolve_budget(campaign: Campaign) -> BudgetOut | None:
        return _budget_out(getattr(campaign, "budget", None))

    @staticmethod
    def resolve_allowed_actions(campaign: Campaign) -> list[str]:
        return allowed_actions(campaign.status)

    @staticmethod
    def resolve_created_by(campaign: Campaign) -> str | None:
        return campaign.created_by.get_username() if campaign.created_by else None


class CampaignIn(Schema):
    name: str = Field(max_length=200)
    objective: Objective
    description: str = Field(default="", max_length=5000)
    start_at: datetime | None = None
    end_at: datetime | None = None
    time_zone: str | None = Field(default=None, description="Defaults to the organization's.")
    currency: str | None = Field(default=None, description="Defaults to the organization's.")
    tags: list[str] = Field(default_factory=list)


class CampaignPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    objective: Objective | None = None
    description: str | None = Field(default=None, max_length=5000)
    start_at: datetime | None = None
    end_at: datetime | None = None
    time_zone: str | None = None
    currency: str | None = None
    tags: list[str] | None = None


class CampaignFilters(Schema):
    status: CampaignStatus | None = None
    channel: str | None = None
    objective: Objective | None = None
    date_from: date | None = Field(default=None, description="Running on or after this day.")
    date_to: date | None = Field(default=None, description="Running on or before this day.")
    search: str | None = Field(default=None, max_length=200, description="Name contains.")
    ordering: str = Field(
        default="-created_at",
        description="One of " + ", ".join(selectors.CAMPAIGN_ORDERINGS) + ".",
    )


def _campaign_detail(actor: Actor, campaign_id: UUID) -> Campaign:
    return selectors.campaign_list(organization=actor.organization).get(
        pk=campaign_get_for_actor(actor=actor, campaign_id=campaign_id).pk
    )


@router.get(
    "/campaigns",
    response={200: Page[CampaignOut], **problems(401, 403, 422)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_campaigns(
    request: HttpRequest, filters: Query[CampaignFilters], page: Query[PageQuery]
) -> dict[str, Any]:
    campaigns = selectors.campaign_list(organization=_actor(request).organization, **filters.dict())
    return paginate(campaigns, page)


@router.post(
    "/campaigns",
    response={201: CampaignOut, **problems(400, 401, 403, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Campaign]:
    actor = _actor(request)
    campaign = campaign_create(actor=actor, **payload.dict())
    return Status(201, _campaign_detail(actor, campaign.pk))


@router.get(
    "/campaigns/{uuid:campaign_id}",
    response={200: CampaignOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_campaign(request: HttpRequest, campaign_id: UUID) -> Campaign:
    return _campaign_detail(_actor(request), campaign_id)


@router.patch(
    "/campaigns/{uuid:campaign_id}",
    response={200: CampaignOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def patch_campaign(request: HttpRequest, campaign_id: UUID, payload: CampaignPatch) -> Campaign:
    actor = _actor(request)
    changes = payload.dict(exclude_unset=True)
    for required in ("name", "objective", "time_zone", "currency", "tags"):
        if required in changes and changes[required] is None:
            raise InvalidInput.single(required, "required", "This field cannot be null.")
    campaign_update(actor=actor, campaign_id=campaign_id, **changes)
    return _campaign_detail(actor, campaign_id)


@router.delete(
    "/campaigns/{uuid:campaign_id}",
    response={204: None, **problems(401, 403, 404, 409)},
)
@requires(Permission.CAMPAIGN_EDIT)
def delete_campaign(request: HttpRequest, campaign_id: UUID) -> Status[None]:
    campaign_delete(actor=_actor(request), campaign_id=campaign_id)
    return Status(204, None)


class DuplicateIn(Schema):
    name: str | None = Field(default=None, max_length=200)


@router.post(
    "/campaigns/{uuid:campaign_id}/duplicate",
    response={201: CampaignOut, **problems(400, 401, 403, 404, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def duplicate_campaign(
    request: HttpRequest, campaign_id: UUID, payload: DuplicateIn | None = None
) -> Status[Campaign]:
    actor = _actor(request)
    copy = campaign_duplicate(
        actor=actor, campaign_id=campaign_id, name=payload.name if payload else None
    )
    return Status(201, _campaign_detail(actor, copy.pk))


# ---------------------------------------------------------------- log


class LogEntryOut(Schema):
    id: int
    action: str
    from_status: str
    to_status: str
    outcome: str
    message: str
    actor_type: str
    actor_label: str
    unit_id: UUID | None
    creative_id: UUID | None
    details: dict[str, Any]
    created_at: datetime


@router.get(
    "/campaigns/{uuid:campaign_id}/log",
    response={200: Page[LogEntryOut], **problems(401, 403, 404, 422)},
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_log(request: HttpRequest, campaign_id: UUID, page: Query[PageQuery]) -> dict[str, Any]:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    return paginate(selectors.campaign_log(campaign=campaign), page)


# ---------------------------------------------------------------- budget


class BudgetIn(Schema):
    kind: BudgetKind
    amount: Decimal = Field(max_digits=14, decimal_places=3)
    currency: str | None = Field(default=None, description="Must be the campaign's currency.")
    allocations: dict[str, Decimal] | None = Field(
        default=None, description="Channel → amount; replaces the whole split when given."
    )


class ReallocateIn(Schema):
    from_channel: str
    to_channel: str
    amount: Decimal = Field(max_digits=14, decimal_places=3)


@router.get(
    "/campaigns/{uuid:campaign_id}/budget",
    response={200: BudgetOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_budget(request: HttpRequest, campaign_id: UUID) -> BudgetOut:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    budget = _budget_out(CampaignBudget.objects.filter(campaign=campaign).first())
    if budget is None:
        raise NotFound(detail="The campaign has no budget yet.")
    return budget


@router.put(
    "/campaigns/{uuid:campaign_id}/budget",
    response={200: BudgetOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def put_budget(request: HttpRequest, campaign_id: UUID, payload: BudgetIn) -> BudgetOut:
    budget = budget_set(actor=_actor(request), campaign_id=campaign_id, **payload.dict())
    return _budget_out(budget)  # type: ignore[return-value]


@router.post(
    "/campaigns/{uuid:campaign_id}/budget/reallocate",
    response={200: BudgetOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def reallocate_budget(request: HttpRequest, campaign_id: UUID, payload: ReallocateIn) -> BudgetOut:
    budget = budget_reallocate(actor=_actor(request), campaign_id=campaign_id, **payload.dict())
    return _budget_out(budget)  # type: ignore[return-value]


# ---------------------------------------------------------------- units


class UnitOut(Schema):
    id: UUID
    campaign_id: UUID
    channel: str
    name: str
    audience_id: UUID | None
    budget_amount: Decimal | None
    status: str
    external_id: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_budget_amount(unit: CampaignUnit) -> Decimal | None:
        if unit.budget_amount is None:
            return None
        return quantize_amount(unit.budget_amount, unit.campaign.currency)


class UnitIn(Schema):
    channel: str
    name: str = Field(max_length=200)
    audience_id: UUID | None = None
    budget_amount: Decimal | None = Field(default=None, max_digits=14, decimal_places=3)


class UnitPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    audience_id: UUID | None = None
    budget_amount: Decimal | None = Field(default=None, max_digits=14, decimal_places=3)


@router.get(
    "/campaigns/{uuid:campaign_id}/units",
    response={200: list[UnitOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_units(request: HttpRequest, campaign_id: UUID) -> list[CampaignUnit]:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    return list(CampaignUnit.objects.filter(campaign=campaign).order_by("created_at"))


@router.post(
    "/campaigns/{uuid:campaign_id}/units",
    response={201: UnitOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def create_unit(request: HttpRequest, campaign_id: UUID, payload: UnitIn) -> Status[CampaignUnit]:
    return Status(
        201, unit_create(actor=_actor(request), campaign_id=campaign_id, **payload.dict())
    )


@router.get(
    "/units/{uuid:unit_id}",
    response={200: UnitOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_unit(request: HttpRequest, unit_id: UUID) -> CampaignUnit:
    return unit_get_for_actor(actor=_actor(request), unit_id=unit_id)


@router.patch(
    "/units/{uuid:unit_id}",
    response={200: UnitOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def patch_unit(request: HttpRequest, unit_id: UUID, payload: UnitPatch) -> CampaignUnit:
    changes = payload.dict(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise InvalidInput.single("name", "required", "This field cannot be null.")
    return unit_update(actor=_actor(request), unit_id=unit_id, **changes)


@router.delete(
    "/units/{uuid:unit_id}",
    response={204: None, **problems(401, 403, 404, 409)},
)
@requires(Permission.CAMPAIGN_EDIT)
def delete_unit(request: HttpRequest, unit_id: UUID) -> Status[None]:
    unit_delete(actor=_actor(request), unit_id=unit_id)
    return Status(204, None)


# ---------------------------------------------------------------- creatives


class FindingOut(Schema):
    severity: str
    field: str
    code: str
    message: str


class CreativeOut(Schema):
    id: UUID
    unit_id: UUID
    lineage_id: UUID
    version: int
    parent_id: UUID | None
    is_current: bool
    launched_at: datetime | None
    name: str
    headlines: list[str]
    descriptions: list[str]
    primary_text: str
    display_path: list[str]
    destination_url: str
    call_to_action: str
    media_id: UUID | None
    media_url: str | None
    external_id: str
    created_at: datetime
    findings: list[FindingOut]

    @staticmethod
    def resolve_media_url(creative: AdCreative) -> str | None:
        return creative.media.file.url if creative.media is not None else None

    @staticmethod
    def resolve_findings(creative: AdCreative) -> list[dict[str, str]]:
        return [finding.as_dict() for finding in creative_findings(creative)]


class CreativeIn(Schema):
    destination_url: str = Field(max_length=2048)
    name: str = Field(default="", max_length=200)
    headlines: list[str] = Field(default_factory=list)
    descriptions: list[str] = Field(default_factory=list)
    primary_text: str = ""
    display_path: list[str] = Field(default_factory=list)
    call_to_action: str = ""
    media_id: UUID | None = None


class CreativePatch(Schema):
    destination_url: str | None = Field(default=None, max_length=2048)
    name: str | None = Field(default=None, max_length=200)
    headlines: list[str] | None = None
    descriptions: list[str] | None = None
    primary_text: str | None = None
    display_path: list[str] | None = None
    call_to_action: str | None = None
    media_id: UUID | None = None


@router.get(
    "/units/{uuid:unit_id}/creatives",
    response={200: list[CreativeOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_creatives(request: HttpRequest, unit_id: UUID) -> list[AdCreative]:
    unit = unit_get_for_actor(actor=_actor(request), unit_id=unit_id)
    return list(selectors.unit_creatives(unit=unit))


@router.post(
    "/units/{uuid:unit_id}/creatives",
    response={201: CreativeOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def create_creative(request: HttpRequest, unit_id: UUID, payload: CreativeIn) -> Status[AdCreative]:
    return Status(201, creative_create(actor=_actor(request), unit_id=unit_id, **payload.dict()))


class ValidateIn(Schema):
    channel: str
    headlines: list[str] = Field(default_factory=list, max_length=50)
    descriptions: list[str] = Field(default_factory=list, max_length=50)
    primary_text: str = Field(default="", max_length=10000)
    display_path: list[str] = Field(default_factory=list, max_length=10)
    destination_url: str = Field(default="", max_length=4096)
    call_to_action: str = Field(default="", max_length=100)
    media_id: UUID | None = None


class PreviewOut(Schema):
    display_url: str
    link_domain: str


class ValidateOut(Schema):
    channel: str
    findings: list[FindingOut]
    blocking: bool = Field(description="True when an error finding would block launch.")
    preview: PreviewOut


@router.post(
    "/creatives/validate",
    response={200: ValidateOut, **problems(400, 401, 403, 422)},
)
@requires(Permission.CAMPAIGN_VIEW)
def validate_creative_fields(request: HttpRequest, payload: ValidateIn) -> ValidateOut:
    """Check creative fields against a platform without saving anything."""
    channel = validate_channel(payload.channel)
    if channel.key not in PLATFORM_CAPABILITIES:
        raise InvalidInput.single("channel", "no_creative_rules", "This channel has no ad rules.")
    media = None
    if payload.media_id is not None:
        asset = (
            MediaAsset.objects.for_org(_actor(request).organization)
            .filter(pk=payload.media_id)
            .first()
        )
        if asset is None:
            raise InvalidInput.single(
                "media_id", "not_found", "No such image in this organization."
            )
        media = MediaFacts(asset.content_type, asset.width, asset.height, asset.size_bytes)
    findings = validate_creative(
        channel.key,
        CreativeInput(
            headlines=payload.headlines,
            descriptions=payload.descriptions,
            primary_text=payload.primary_text,
            display_path=payload.display_path,
            destination_url=payload.destination_url,
            call_to_action=payload.call_to_action,
            media=media,
        ),
    )
    return ValidateOut(
        channel=channel.key,
        findings=[FindingOut(**finding.as_dict()) for finding in findings],
        blocking=any(finding.is_blocking for finding in findings),
        preview=PreviewOut(
            display_url=display_url(payload.destination_url, payload.display_path),
            link_domain=link_domain(payload.destination_url),
        ),
    )


@router.get(
    "/creatives/{uuid:creative_id}",
    response={200: CreativeOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_creative(request: HttpRequest, creative_id: UUID) -> AdCreative:
    return creative_get_for_actor(actor=_actor(request), creative_id=creative_id)


@router.patch(
    "/creatives/{uuid:creative_id}",
    response={200: CreativeOut, **problems(400, 401, 403, 404, 409, 422)},
    description="Edits in place until launched; editing a launched version returns a new "
    "version (a different id, with `parent_id` the edited one).",
)
@requires(Permission.CAMPAIGN_EDIT)
def patch_creative(request: HttpRequest, creative_id: UUID, payload: CreativePatch) -> AdCreative:
    changes = payload.dict(exclude_unset=True)
    for required in ("destination_url", "headlines", "descriptions", "display_path"):
        if required in changes and changes[required] is None:
            raise InvalidInput.single(required, "required", "This field cannot be null.")
    for text in ("name", "primary_text", "call_to_action"):
        if text in changes and changes[text] is None:
            changes[text] = ""
    return creative_update(actor=_actor(request), creative_id=creative_id, **changes)


@router.delete(
    "/creatives/{uuid:creative_id}",
    response={204: None, **problems(401, 403, 404, 409)},
)
@requires(Permission.CAMPAIGN_EDIT)
def delete_creative(request: HttpRequest, creative_id: UUID) -> Status[None]:
    creative_delete(actor=_actor(request), creative_id=creative_id)
    return Status(204, None)


@router.get(
    "/creatives/{uuid:creative_id}/versions",
    response={200: list[CreativeOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def creative_versions(request: HttpRequest, creative_id: UUID) -> list[AdCreative]:
    creative = creative_get_for_actor(actor=_actor(request), creative_id=creative_id)
    return list(selectors.creative_versions(creative=creative))


class PlatformOut(Schema):
    channel: str
    label: str
    unit_label: str
    requires_ad_account: bool
    creative: dict[str, Any] | None = Field(description="The platform's ad limits.")


@router.get(
    "/platforms",
    response={200: list[PlatformOut], **problems(401, 403)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_platforms(request: HttpRequest) -> list[PlatformOut]:
    return [
        PlatformOut(
            channel=channel.key,
            label=channel.label,
            unit_label=channel.unit_label,
            requires_ad_account=channel.requires_ad_account,
            creative=PLATFORM_CAPABILITIES[channel.key].as_dict()
            if channel.key in PLATFORM_CAPABILITIES
            else None,
        )
        for channel in all_channels()
    ]


# ---------------------------------------------------------------- audiences


class AudienceOut(Schema):
    id: UUID
    name: str
    description: str
    rules: dict[str, Any]
    summary: str
    units_using: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_summary(audience: Audience) -> str:
        return audience_summary(audience_rules_validate(audience.rules))

    @staticmethod
    def resolve_units_using(audience: Audience) -> int:
        count = getattr(audience, "units_using", None)
        return count if count is not None else audience.units.count()


class AudienceIn(Schema):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    rules: dict[str, Any]


class AudiencePatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    rules: dict[str, Any] | None = None


class AudienceFilters(Schema):
    search: str | None = Field(default=None, max_length=200)


@router.get(
    "/audiences",
    response={200: Page[AudienceOut], **problems(401, 403, 422)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_audiences(
    request: HttpRequest, filters: Query[AudienceFilters], page: Query[PageQuery]
) -> dict[str, Any]:
    return paginate(
        selectors.audience_list(organization=_actor(request).organization, search=filters.search),
        page,
    )


@router.post(
    "/audiences",
    response={201: AudienceOut, **problems(400, 401, 403, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def create_audience(request: HttpRequest, payload: AudienceIn) -> Status[Audience]:
    return Status(201, audience_create(actor=_actor(request), **payload.dict()))


@router.get(
    "/audiences/{uuid:audience_id}",
    response={200: AudienceOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_audience(request: HttpRequest, audience_id: UUID) -> Audience:
    return audience_get_for_actor(actor=_actor(request), audience_id=audience_id)


@router.patch(
    "/audiences/{uuid:audience_id}",
    response={200: AudienceOut, **problems(400, 401, 403, 404, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def patch_audience(request: HttpRequest, audience_id: UUID, payload: AudiencePatch) -> Audience:
    changes = payload.dict(exclude_unset=True)
    for required in ("name", "rules"):
        if required in changes and changes[required] is None:
            raise InvalidInput.single(required, "required", "This field cannot be null.")
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    return audience_update(actor=_actor(request), audience_id=audience_id, **changes)


@router.delete(
    "/audiences/{uuid:audience_id}",
    response={204: None, **problems(401, 403, 404, 409)},
)
@requires(Permission.CAMPAIGN_EDIT)
def delete_audience(request: HttpRequest, audience_id: UUID) -> Status[None]:
    audience_delete(actor=_actor(request), audience_id=audience_id)
    return Status(204, None)


# ---------------------------------------------------------------- media


class MediaOut(Schema):
    id: UUID
    original_name: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    url: str
    created_at: datetime

    @staticmethod
    def resolve_url(asset: MediaAsset) -> str:
        return asset.file.url


@router.get(
    "/media",
    response={200: Page[MediaOut], **problems(401, 403, 422)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_media(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    return paginate(selectors.media_list(organization=_actor(request).organization), page)


@router.post(
    "/media",
    response={201: MediaOut, **problems(400, 401, 403, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def upload_media(request: HttpRequest, file: File[UploadedFile]) -> Status[MediaAsset]:
    """Upload a JPEG, PNG, GIF or WebP image (multipart field `file`)."""
    return Status(
        201, media_upload(actor=_actor(request), stream=file, filename=file.name or "image")
    )


@router.get(
    "/media/{uuid:media_id}",
    response={200: MediaOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_media(request: HttpRequest, media_id: UUID) -> MediaAsset:
    return media_get_for_actor(actor=_actor(request), media_id=media_id)


@router.delete(
    "/media/{uuid:media_id}",
    response={204: None, **problems(401, 403, 404, 409)},
)
@requires(Permission.CAMPAIGN_EDIT)
def delete_media(request: HttpRequest, media_id: UUID) -> Status[None]:
    media_delete(actor=_actor(request), media_id=media_id)
    return Status(204, None)


# ---------------------------------------------------------------- KPI targets


class KpiOut(Schema):
    id: UUID
    metric: str
    label: str
    target_value: Decimal
    unit: str

    @staticmethod
    def resolve_label(kpi: KpiTarget) -> str:
        return METRICS[kpi.metric].label


class KpiIn(Schema):
    metric: str
    target_value: Decimal = Field(max_digits=18, decimal_places=4)


@router.get(
    "/campaigns/{uuid:campaign_id}/kpis",
    response={200: list[KpiOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def list_kpis(request: HttpRequest, campaign_id: UUID) -> list[KpiTarget]:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    return list(KpiTarget.objects.filter(campaign=campaign))


@router.post(
    "/campaigns/{uuid:campaign_id}/kpis",
    response={201: KpiOut, **problems(400, 401, 403, 404, 422)},
    description="Create the target for a metric, or replace the existing one.",
)
@requires(Permission.CAMPAIGN_EDIT)
def set_kpi(request: HttpRequest, campaign_id: UUID, payload: KpiIn) -> Status[KpiTarget]:
    return Status(201, kpi_set(actor=_actor(request), campaign_id=campaign_id, **payload.dict()))


@router.delete(
    "/campaigns/{uuid:campaign_id}/kpis/{uuid:kpi_id}",
    response={204: None, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_EDIT)
def delete_kpi(request: HttpRequest, campaign_id: UUID, kpi_id: UUID) -> Status[None]:
    actor = _actor(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    kpi_delete(actor=actor, kpi_id=selectors.campaign_kpi_get(campaign=campaign, kpi_id=kpi_id).pk)
    return Status(204, None)


# ---------------------------------------------------------------- lifecycle
# Registered last: its path would otherwise shadow /campaigns/{id}/units, /log, ….


class UserAction(StrEnum):
    SCHEDULE = "schedule"
    LAUNCH = "launch"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    CANCEL = "cancel"
    RETRY = "retry"


class _LifecycleActionConverter:
    """Matches only the lifecycle actions, so any other word after a campaign id is an
    unknown URL (404) rather than a malformed action (422)."""

    regex = "|".join(action.value for action in UserAction)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(_LifecycleActionConverter, "lifecycle_action")


class ActionIn(Schema):
    reason: str = Field(default="", max_length=500, description="For pause and cancel.")


@router.post(
    "/campaigns/{uuid:campaign_id}/{lifecycle_action:action}",
    response={200: CampaignOut, **problems(400, 401, 403, 404, 409, 422)},
    description=(
        "Run a lifecycle action. 409 when the current status does not allow it (both "
        "statuses are named); 422 when its checks fail (each failed check is listed). "
        "Every transition and every failed attempt is written to the campaign's log."
    ),
)
@requires(Permission.CAMPAIGN_OPERATE)
def run_campaign_action(
    request: HttpRequest, campaign_id: UUID, action: UserAction, payload: ActionIn | None = None
) -> Campaign:
    actor = _actor(request)
    reason = payload.reason if payload else ""
    handlers = {
        UserAction.SCHEDULE: lambda: lifecycle.campaign_schedule(
            actor=actor, campaign_id=campaign_id
        ),
        UserAction.LAUNCH: lambda: lifecycle.campaign_launch(actor=actor, campaign_id=campaign_id),
        UserAction.PAUSE: lambda: lifecycle.campaign_pause(
            actor=actor, campaign_id=campaign_id, reason=reason
        ),
        UserAction.RESUME: lambda: lifecycle.campaign_resume(actor=actor, campaign_id=campaign_id),
        UserAction.COMPLETE: lambda: lifecycle.campaign_complete(
            actor=actor, campaign_id=campaign_id
        ),
        UserAction.CANCEL: lambda: lifecycle.campaign_cancel(
            actor=actor, campaign_id=campaign_id, reason=reason
        ),
        UserAction.RETRY: lambda: lifecycle.campaign_retry(actor=actor, campaign_id=campaign_id),
    }
    handlers[action]()
    return _campaign_detail(actor, campaign_id)
