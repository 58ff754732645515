"""The campaign builder (a six-step wizard) and the Creative Studio.

The campaign is a real draft from the first step on: each step posts to the services
that own its part (campaign, units and ad accounts, audiences, budget, creatives), so
progress is saved as it is made and a step opened again shows what was saved. A
service's ``InvalidInput`` is shown beside the field its path names; nothing here
decides what is valid.

The Creative Studio (step 5, and ``/campaigns/<id>/studio/`` on its own) edits one
universal ad and previews it as each of the campaign's platforms would show it. The
preview endpoint runs ``validate_creative``, the validator the launch uses, on what is
typed; herald.js updates the preview text on every keystroke meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns import selectors
from herald.campaigns.audience_rules import (
    AGE_MAX,
    AGE_MIN,
    DEVICES,
    GENDERS,
    audience_rules_validate,
    audience_summary,
)
from herald.campaigns.capabilities import (
    CALL_TO_ACTIONS,
    PLATFORM_CAPABILITIES,
    CreativeInput,
    Finding,
    MediaFacts,
    PlatformCapabilities,
    character_count,
    display_url,
    link_domain,
    validate_creative,
)
from herald.campaigns.channels import Channel, all_channels, get_channel
from herald.campaigns.choices import BudgetKind, LifecycleAction, Objective
from herald.campaigns.lifecycle import allowed_actions
from herald.campaigns.models import (
    AdCreative,
    Audience,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    MediaAsset,
)
from herald.campaigns.services import lifecycle
from herald.campaigns.services.audiences import audience_create
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.campaigns import (
    UNSET,
    campaign_create,
    campaign_get_for_actor,
    campaign_update,
)
from herald.campaigns.services.creatives import creative_create, creative_update
from herald.campaigns.services.media import MEDIA_TYPES, media_upload
from herald.campaigns.services.units import unit_create, unit_delete, unit_update
from herald.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    PreconditionFailed,
)
from herald.core.money import quantize_amount
from herald.integrations import selectors as integration_selectors
from herald.integrations.models import CampaignAdAccount
from herald.integrations.services.accounts import campaign_ad_account_set
from herald.web.access import actor_of, member_view
from herald.web.builder_forms import (
    AUDIENCE_ERROR_ROUTES,
    DATETIME_INPUT_FORMAT,
    OBJECTIVE_ERROR_ROUTES,
    AudienceForm,
    BudgetForm,
    ChannelsForm,
    CreativeContent,
    CreativeForm,
    ObjectiveForm,
    Route,
    show_errors,
)

__all__ = [
    "builder_new",
    "builder_step",
    "creative_preview",
    "creative_studio",
    "creative_upload",
]

# Errors a person fixes in the form; NotFound and PermissionDenied go to access.py.
FORM_ERRORS = (InvalidInput, Conflict, PreconditionFailed)

STEPS: list[tuple[str, str]] = [
    ("objective", "Objective"),
    ("channels", "Channels"),
    ("audience", "Audience"),
    ("budget", "Budget"),
    ("creative", "Creative"),
    ("review", "Review"),
]
STEP_SLUGS = [slug for slug, _ in STEPS]

# How each platform's ad is drawn in the studio: the mode's name and its template.
# Presentation only; what the platform accepts is in PLATFORM_CAPABILITIES.
PREVIEW_MODES: dict[str, tuple[str, str]] = {
    "google_ads": ("Google Search", "web/builder/_preview_search.html"),
    "meta_ads": ("Meta Feed", "web/builder/_preview_feed.html"),
}
# A search result shows the first few headlines joined, then the descriptions.
SEARCH_HEADLINES_SHOWN = 3
SEARCH_DESCRIPTIONS_SHOWN = 2
# Headline or description boxes read from one post, whatever it claims.
MAX_POSTED_BOXES = 50


# ---- Shared helpers -------------------------------------------------------------------


def _builder_channels() -> list[Channel]:
    """The channels the builder offers: those whose ads Herald can build."""
    return [channel for channel in all_channels() if channel.key in PLATFORM_CAPABILITIES]


def _units(campaign: Campaign) -> list[CampaignUnit]:
    return list(
        CampaignUnit.objects.filter(campaign=campaign)
        .select_related("audience")
        .order_by("created_at")
    )


def _channel_keys_in_use(campaign: Campaign) -> list[str]:
    in_use = {unit.channel for unit in _units(campaign)}
    return [channel.key for channel in _builder_channels() if channel.key in in_use]


def _step_url(campaign: Campaign, step: str) -> str:
    return reverse("web:builder_step", args=[campaign.pk, step])


def _steps_done(campaign: Campaign) -> dict[str, bool]:
    units = _units(campaign)
    creatives = {
        creative.unit_id
        for creative in AdCreative.objects.filter(unit__campaign=campaign, is_current=True)
    }
    return {
        "objective": True,
        "channels": bool(units),
        "audience": bool(units) and all(unit.audience_id for unit in units),
        "budget": CampaignBudget.objects.filter(campaign=campaign).exists(),
        "creative": bool(units) and all(unit.pk in creatives for unit in units),
        "review": False,
    }


def _stepper(campaign: Campaign | None, current: str) -> list[dict[str, Any]]:
    done = _steps_done(campaign) if campaign is not None else {}
    return [
        {
            "slug": slug,
            "label": label,
            "number": number,
            "url": _step_url(campaign, slug) if campaign is not None else None,
            "current": slug == current,
            "done": done.get(slug, False),
        }
        for number, (slug, label) in enumerate(STEPS, start=1)
    ]


def _neighbours(step: str) -> tuple[str | None, str | None]:
    index = STEP_SLUGS.index(step)
    previous = STEP_SLUGS[index - 1] if index > 0 else None
    following = STEP_SLUGS[index + 1] if index + 1 < len(STEP_SLUGS) else None
    return previous, following


def _after_save(request: HttpRequest, campaign: Campaign, step: str) -> HttpResponse:
    """Saved: on to the next step, or (``go=stay``) back to this one."""
    _, following = _neighbours(step)
    if request.POST.get("go") == "stay" or following is None:
        messages.success(request, "Saved as a draft.")
        return HttpResponseRedirect(_step_url(campaign, step))
    return HttpResponseRedirect(_step_url(campaign, following))


def _render_step(
    request: HttpRequest,
    campaign: Campaign | None,
    step: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    previous, following = _neighbours(step)
    return render(
        request,
        f"web/builder/{step}.html",
        {
            "campaign": campaign,
            "step": step,
            "steps": _stepper(campaign, step),
            "previous_url": _step_url(campaign, previous) if campaign and previous else None,
            "has_next": following is not None,
            **context,
        },
        status=status,
    )


def _local_input(value: datetime | None, zone: ZoneInfo) -> str:
    return timezone.localtime(value, zone).strftime(DATETIME_INPUT_FORMAT) if value else ""


def _same_minute(new: datetime | None, old: datetime | None) -> bool:
    if new is None or old is None:
        return new is old
    return new.replace(second=0, microsecond=0) == old.replace(second=0, microsecond=0)


# ---- Entry: /campaigns/new/ -------------------------------------------------------------


@member_view(Permission.CAMPAIGN_EDIT)
def builder_new(request: HttpRequest) -> HttpResponse:
    """Step 1 before the campaign exists; its first save creates the draft."""
    return _objective_step(request, actor_of(request), None)


@member_view(Permission.CAMPAIGN_EDIT)
def builder_step(request: HttpRequest, campaign_id: str, step: str) -> HttpResponse:
    actor = actor_of(request)
    handlers: dict[str, Callable[[HttpRequest, Actor, Campaign], HttpResponse]] = {
        "objective": _objective_step,
        "channels": _channels_step,
        "audience": _audience_step,
        "budget": _budget_step,
        "creative": _creative_step,
        "review": _review_step,
    }
    if step not in handlers:
        raise Http404("No such builder step.")
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    return handlers[step](request, actor, campaign)


# ---- 1. Objective ---------------------------------------------------------------------


def _objective_step(request: HttpRequest, actor: Actor, campaign: Campaign | None) -> HttpResponse:
    if request.method == "POST":
        form = ObjectiveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if campaign is None:
                    campaign = campaign_create(
                        actor=actor,
                        name=data["name"],
                        objective=data["objective"],
                        description=data["description"],
                    )
                else:
                    campaign = campaign_update(
                        actor=actor,
                        campaign_id=campaign.pk,
                        name=data["name"],
                        objective=data["objective"],
                        description=data["description"],
                    )
            except FORM_ERRORS as error:
                show_errors(form, error, OBJECTIVE_ERROR_ROUTES)
            else:
                return _after_save(request, campaign, "objective")
    elif campaign is not None:
        form = ObjectiveForm(
            initial={
                "name": campaign.name,
                "objective": campaign.objective,
                "description": campaign.description,
            }
        )
    else:
        form = ObjectiveForm()
    return _render_step(
        request,
        campaign,
        "objective",
        {
            "form": form,
            "objectives": Objective.choices,
            "action_url": _step_url(campaign, "objective")
            if campaign
            else reverse("web:builder_new"),
        },
    )


# ---- 2. Channels and ad accounts --------------------------------------------------------


def _channels_step(request: HttpRequest, actor: Actor, campaign: Campaign) -> HttpResponse:
    offered = _builder_channels()
    keys = [channel.key for channel in offered]
    units = _units(campaign)
    chosen_accounts = {
        link.channel: link.ad_account_id
        for link in CampaignAdAccount.objects.filter(campaign=campaign)
    }
    if request.method == "POST":
        form = ChannelsForm(request.POST, channel_keys=keys)
        if form.is_valid():
            try:
                with transaction.atomic():
                    _save_channels(actor, campaign, form.cleaned_data, units, chosen_accounts)
            except FORM_ERRORS as error:
                routes: list[Route] = [
                    *((f"accounts.{key}", f"account_{key}") for key in keys),
                    ("*", "channels"),
                ]
                show_errors(form, error, routes, default="channels")
            else:
                return _after_save(request, campaign, "channels")
    else:
        form = ChannelsForm(
            initial={
                "channels": sorted({unit.channel for unit in units}),
                **{f"account_{key}": str(value) for key, value in chosen_accounts.items()},
            },
            channel_keys=keys,
        )
    selected = {str(value) for value in form["channels"].value() or []}
    rows = []
    for channel in offered:
        account_field = form[f"account_{channel.key}"]
        rows.append(
            {
                "channel": channel,
                "checked": channel.key in selected,
                "account_field": account_field,
                "account_value": str(account_field.value() or ""),
                "accounts": integration_selectors.ad_account_list(
                    organization=actor.organization, provider=channel.key
                ),
            }
        )
    return _render_step(request, campaign, "channels", {"form": form, "rows": rows})


def _save_channels(
    actor: Actor,
    campaign: Campaign,
    data: dict[str, Any],
    units: list[CampaignUnit],
    chosen_accounts: dict[str, Any],
) -> None:
    chosen = set(data["channels"])
    audiences = {unit.audience_id for unit in units}
    # A channel added later gets the audience the others share, if they share one.
    shared_audience = next(iter(audiences)) if len(audiences) == 1 else None
    for channel in _builder_channels():
        existing = [unit for unit in units if unit.channel == channel.key]
        if channel.key in chosen and not existing:
            unit_create(
                actor=actor,
                campaign_id=campaign.pk,
                channel=channel.key,
                name=f"{channel.label} {channel.unit_label}",
                audience_id=shared_audience,
            )
        elif channel.key not in chosen:
            for unit in existing:
                unit_delete(actor=actor, unit_id=unit.pk)
        if channel.key in chosen and channel.requires_ad_account:
            account = data.get(f"account_{channel.key}")
            if str(account or "") != str(chosen_accounts.get(channel.key) or ""):
                campaign_ad_account_set(
                    actor=actor, campaign_id=campaign.pk, channel=channel.key, ad_account_id=account
                )


# ---- 3. Audience -----------------------------------------------------------------------


def _audience_label(audience: Audience) -> str:
    try:
        return f"{audience.name} — {audience_summary(audience_rules_validate(audience.rules))}"
    except InvalidInput:
        return audience.name


def _audience_step(request: HttpRequest, actor: Actor, campaign: Campaign) -> HttpResponse:
    units = _units(campaign)
    if not units:
        messages.info(request, "Choose the campaign's channels first: the audience is theirs.")
        return HttpResponseRedirect(_step_url(campaign, "channels"))
    saved = list(selectors.audience_list(organization=actor.organization))
    if request.method == "POST":
        form = AudienceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if data["mode"] == "saved" and data["audience_id"] is None:
                form.add_error("audience_id", "Choose a saved audience, or create a new one.")
            else:
                try:
                    with transaction.atomic():
                        if data["mode"] == "new":
                            audience_id: Any = audience_create(
                                actor=actor, name=data["name"], rules=form.rules()
                            ).pk
                        else:
                            audience_id = data["audience_id"]
                        for unit in units:
                            unit_update(actor=actor, unit_id=unit.pk, audience_id=audience_id)
                except FORM_ERRORS as error:
                    show_errors(form, error, AUDIENCE_ERROR_ROUTES)
                else:
                    return _after_save(request, campaign, "audience")
    else:
        current = {unit.audience_id for unit in units}
        current_id = next(iter(current)) if len(current) == 1 else None
        form = AudienceForm(
            initial={
                "mode": "saved" if saved else "new",
                "audience_id": str(current_id) if current_id else "",
                "age_min": 18,
                "age_max": AGE_MAX,
            }
        )
    mixed = len({unit.audience_id for unit in units}) > 1
    return _render_step(
        request,
        campaign,
        "audience",
        {
            "form": form,
            "mode": form["mode"].value() or "saved",
            "saved": [(str(audience.pk), _audience_label(audience)) for audience in saved],
            "selected_audience": str(form["audience_id"].value() or ""),
            "genders": GENDERS,
            "devices": DEVICES,
            "checked_genders": [str(value) for value in form["genders"].value() or []],
            "checked_devices": [str(value) for value in form["devices"].value() or []],
            "age_min": AGE_MIN,
            "age_max": AGE_MAX,
            "units": units,
            "mixed": mixed,
        },
    )


# ---- 4. Budget and dates ---------------------------------------------------------------


def _budget_step(request: HttpRequest, actor: Actor, campaign: Campaign) -> HttpResponse:
    zone = ZoneInfo(campaign.time_zone)
    keys = _channel_keys_in_use(campaign)
    budget = CampaignBudget.objects.filter(campaign=campaign).first()
    if request.method == "POST":
        form = BudgetForm(request.POST, channel_keys=keys)
        with timezone.override(zone):
            valid = form.is_valid()
        if valid:
            try:
                with transaction.atomic():
                    _save_budget(actor, campaign, form)
            except FORM_ERRORS as error:
                show_errors(form, error, form.error_routes(), default="amount")
            else:
                return _after_save(request, campaign, "budget")
    else:
        initial: dict[str, Any] = {
            "kind": budget.kind if budget else BudgetKind.DAILY,
            "amount": quantize_amount(budget.amount, budget.currency) if budget else None,
            "start_at": _local_input(campaign.start_at, zone),
            "end_at": _local_input(campaign.end_at, zone),
        }
        if budget is not None:
            for allocation in budget.allocations.all():
                initial[f"allocation_{allocation.channel}"] = quantize_amount(
                    allocation.amount, budget.currency
                )
        form = BudgetForm(initial=initial, channel_keys=keys)
    return _render_step(
        request,
        campaign,
        "budget",
        {
            "form": form,
            "kinds": BudgetKind.choices,
            "kind": form["kind"].value() or BudgetKind.DAILY,
            "allocation_rows": [(get_channel(key), form[f"allocation_{key}"]) for key in keys],
        },
    )


def _save_budget(actor: Actor, campaign: Campaign, form: BudgetForm) -> None:
    data = form.cleaned_data
    start_at, end_at = data["start_at"], data["end_at"]
    dates = {
        "start_at": UNSET if _same_minute(start_at, campaign.start_at) else start_at,
        "end_at": UNSET if _same_minute(end_at, campaign.end_at) else end_at,
    }

    def save_dates() -> None:
        if dates["start_at"] is not UNSET or dates["end_at"] is not UNSET:
            campaign_update(actor=actor, campaign_id=campaign.pk, **dates)

    def save_budget() -> None:
        budget_set(
            actor=actor,
            campaign_id=campaign.pk,
            kind=data["kind"],
            amount=data["amount"],
            allocations=form.split(),
        )

    # A lifetime budget needs its end date first; a daily one may drop the end date
    # only once it is no longer lifetime.
    if data["kind"] == BudgetKind.LIFETIME:
        save_dates()
        save_budget()
    else:
        save_budget()
        save_dates()


# ---- 5. Creative Studio ----------------------------------------------------------------


@dataclass
class StudioChannel:
    """One platform the studio previews: its unit and the ad there (if any)."""

    channel: Channel
    capabilities: PlatformCapabilities
    unit: CampaignUnit
    creative: AdCreative | None
    versions: list[AdCreative] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.channel.key


@dataclass
class Preview:
    """What one platform would show, and what it would reject or change."""

    key: str
    label: str
    mode: str
    template: str
    findings: list[Finding]
    fields: dict[str, Any]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_blocking]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.is_blocking]


def _studio_channels(campaign: Campaign) -> list[StudioChannel]:
    """The first unit of each builder channel the campaign uses, with its current ad."""
    by_channel: dict[str, CampaignUnit] = {}
    for unit in _units(campaign):
        by_channel.setdefault(unit.channel, unit)
    channels = []
    for channel in _builder_channels():
        if channel.key not in by_channel:
            continue
        unit = by_channel[channel.key]
        creative = selectors.unit_creatives(unit=unit).first()
        channels.append(
            StudioChannel(
                channel=channel,
                capabilities=PLATFORM_CAPABILITIES[channel.key],
                unit=unit,
                creative=creative,
                versions=list(selectors.creative_versions(creative=creative)) if creative else [],
            )
        )
    return channels


def _source_channel(channels: list[StudioChannel], wanted: str | None) -> StudioChannel | None:
    """The channel whose ad the form starts from: the one asked for, else the first
    with an ad."""
    with_ad = [channel for channel in channels if channel.creative is not None]
    for channel in with_ad:
        if channel.key == wanted:
            return channel
    return with_ad[0] if with_ad else None


def _slot_count(posted: int, stored: int, minimum: int, maximum: int) -> int:
    """Boxes to offer: what was posted, else the stored entries plus one empty box,
    at least the platforms' minimum, at most their maximum (unless more are stored)."""
    if posted:
        return posted
    return max(min(max(minimum, stored + 1), maximum), stored, 1)


def _posted_slots(data: QueryDict, prefix: str) -> int:
    """How many ``<prefix><n>`` boxes were posted (capped: a form is not a list API)."""
    indexes = [
        int(name.removeprefix(prefix))
        for name in data
        if name.startswith(prefix) and name.removeprefix(prefix).isdigit()
    ]
    return min(max(indexes) + 1, MAX_POSTED_BOXES) if indexes else 0


def _creative_form(
    channels: list[StudioChannel],
    data: QueryDict | None = None,
    initial: dict[str, Any] | None = None,
    stored: dict[str, Any] | None = None,
) -> CreativeForm:
    capabilities = [channel.capabilities for channel in channels]
    stored = stored or {}
    headline_slots = _slot_count(
        _posted_slots(data, "headline_") if data is not None else 0,
        len(stored.get("headlines") or []),
        max((c.headlines_min for c in capabilities), default=1),
        max((c.headlines_max for c in capabilities), default=1),
    )
    description_slots = _slot_count(
        _posted_slots(data, "description_") if data is not None else 0,
        len(stored.get("descriptions") or []),
        max((c.descriptions_min for c in capabilities), default=1),
        max((c.descriptions_max for c in capabilities), default=1),
    )
    return CreativeForm(
        data,
        initial=initial,
        headline_slots=headline_slots,
        description_slots=description_slots,
        channel_keys=[channel.key for channel in channels],
    )


def _media(actor: Actor, media_id: object | None) -> MediaAsset | None:
    """The organization's image with that id, if any (a bad id is simply no image)."""
    try:
        pk = uuid.UUID(str(media_id)) if media_id else None
    except ValueError:
        return None
    asset: MediaAsset | None = (
        MediaAsset.objects.for_org(actor.organization).filter(pk=pk).first() if pk else None
    )
    return asset


def _initials(name: str) -> str:
    words = [word for word in name.replace("-", " ").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def _button_label(call_to_action: str) -> str:
    """The button Meta draws; none for no choice or NO_BUTTON."""
    value = call_to_action.strip().upper()
    return "" if value == "NO_BUTTON" else CALL_TO_ACTIONS.get(value, "")


def _previews(
    campaign: Campaign,
    channels: list[StudioChannel],
    content: CreativeContent,
    media: Any,
    *,
    headline_slots: int,
    description_slots: int,
) -> list[Preview]:
    """Each channel's preview of ``content``, with ``validate_creative``'s findings.
    The ``*_ids`` name the inputs herald.js reads to redraw the text as it is typed."""
    facts = (
        MediaFacts(media.content_type, media.width, media.height, media.size_bytes)
        if media is not None
        else None
    )
    creative = CreativeInput(
        headlines=content.headlines,
        descriptions=content.descriptions,
        primary_text=content.primary_text,
        display_path=content.display_path,
        destination_url=content.destination_url,
        call_to_action=content.call_to_action.strip().upper(),
        media=facts,
    )
    organization = campaign.organization
    previews = []
    for channel in channels:
        mode, template = PREVIEW_MODES.get(
            channel.key, (channel.channel.label, "web/builder/_preview_search.html")
        )
        previews.append(
            Preview(
                key=channel.key,
                label=channel.channel.label,
                mode=mode,
                template=template,
                findings=validate_creative(channel.key, creative),
                fields={
                    "search_headline": " | ".join(content.headlines[:SEARCH_HEADLINES_SHOWN]),
                    "search_description": " ".join(
                        content.descriptions[:SEARCH_DESCRIPTIONS_SHOWN]
                    ),
                    "display_url": display_url(content.destination_url, content.display_path),
                    "headline": content.headlines[0] if content.headlines else "",
                    "primary_text": content.primary_text,
                    "link_domain": link_domain(content.destination_url),
                    "button": _button_label(content.call_to_action),
                    "page_name": organization.name,
                    "initials": _initials(organization.name),
                    "image_url": media.file.url if media is not None else "",
                    "image_name": media.original_name if media is not None else "",
                    "headline_ids": " ".join(
                        f"id_headline_{index}" for index in range(headline_slots)
                    ),
                    "description_ids": " ".join(
                        f"id_description_{index}" for index in range(description_slots)
                    ),
                    "headlines_shown": SEARCH_HEADLINES_SHOWN,
                    "descriptions_shown": SEARCH_DESCRIPTIONS_SHOWN,
                },
            )
        )
    return previews


def _finding_slots(form: CreativeForm, channels: list[StudioChannel]) -> list[str]:
    """The fields the studio shows (and so can show findings beside), in page order."""
    capabilities = [channel.capabilities for channel in channels]
    names = ["destination_url"]
    if any(c.display_path_max_parts for c in capabilities):
        names += ["display_path_0", "display_path_1"]
    names += [f"headline_{index}" for index in range(form.headline_slots)]
    names += [f"description_{index}" for index in range(form.description_slots)]
    if any(c.primary_text_max_chars is not None for c in capabilities):
        names.append("primary_text")
    if any(c.call_to_actions for c in capabilities):
        names.append("call_to_action")
    if any(c.supports_images for c in capabilities):
        names.append("media_id")
    return names


def _field_findings(
    form: CreativeForm,
    channels: list[StudioChannel],
    content: CreativeContent,
    previews: list[Preview],
) -> list[dict[str, Any]]:
    """Every finding beside the box it is about: one slot per field that can have one."""
    slots: dict[str, list[Finding]] = {name: [] for name in _finding_slots(form, channels)}
    for preview in previews:
        for finding in preview.findings:
            name = content.field_name(finding.field)
            if name in slots:
                slots[name].append(finding)
    return [{"name": name, "findings": findings} for name, findings in slots.items()]


def _split_by_apply_to(
    channels: list[StudioChannel], form: CreativeForm
) -> tuple[list[StudioChannel], list[StudioChannel]]:
    """The channels the form saves to (previewed) and those keeping their own ad."""
    chosen = {str(value) for value in form["apply_to"].value() or []}
    return (
        [channel for channel in channels if channel.key in chosen],
        [channel for channel in channels if channel.key not in chosen],
    )


def _counter(label: str, maximum: int, text: str) -> dict[str, Any]:
    count = character_count(text)
    return {"platform": label, "max": maximum, "count": count, "over": count > maximum}


def _field_rows(
    form: CreativeForm, channels: list[StudioChannel], findings: list[dict[str, Any]]
) -> dict[str, Any]:
    """The studio's inputs with their counters (limits from PLATFORM_CAPABILITIES) and
    the findings about each, grouped the way the template lays them out."""
    by_name = {slot["name"]: slot["findings"] for slot in findings}

    def row(name: str, label: str, limit: Callable[[PlatformCapabilities], int | None]) -> Any:
        bound = form[name]
        value = str(bound.value() or "")
        counters = [
            _counter(channel.capabilities.label, maximum, value)
            for channel in channels
            if (maximum := limit(channel.capabilities)) is not None
        ]
        return {
            "name": name,
            "label": label,
            "field": bound,
            "value": value,
            "counters": counters,
            "findings": by_name.get(name, []),
            "used_by": ", ".join(
                channel.capabilities.label
                for channel in channels
                if limit(channel.capabilities) is not None
            ),
        }

    def nth(
        limit: Callable[[PlatformCapabilities], int],
        count: Callable[[PlatformCapabilities], int],
        index: int,
    ) -> Callable[[PlatformCapabilities], int | None]:
        return lambda capabilities: limit(capabilities) if index < count(capabilities) else None

    def display_path_limit(index: int) -> Callable[[PlatformCapabilities], int | None]:
        return lambda c: c.display_path_max_chars if index < c.display_path_max_parts else None

    return {
        "destination": row("destination_url", "Destination URL", lambda c: None),
        "display_paths": [
            row(f"display_path_{index}", f"Display path {index + 1}", display_path_limit(index))
            for index in range(2)
        ],
        "headlines": [
            row(
                f"headline_{index}",
                f"Headline {index + 1}",
                nth(lambda c: c.headline_max_chars, lambda c: c.headlines_max, index),
            )
            for index in range(form.headline_slots)
        ],
        "descriptions": [
            row(
                f"description_{index}",
                f"Description {index + 1}",
                nth(lambda c: c.description_max_chars, lambda c: c.descriptions_max, index),
            )
            for index in range(form.description_slots)
        ],
        "primary_text": row("primary_text", "Primary text", lambda c: c.primary_text_max_chars),
        "call_to_action": row("call_to_action", "Call to action", lambda c: None),
        "media": row("media_id", "Image", lambda c: None),
    }


def _studio_context(
    actor: Actor,
    campaign: Campaign,
    channels: list[StudioChannel],
    form: CreativeForm,
    *,
    in_wizard: bool,
    content: CreativeContent | None = None,
    media_errors: list[str] | None = None,
) -> dict[str, Any]:
    """Everything the studio template shows; ``content`` is what an unbound form
    starts from (a bound form's own content is used otherwise)."""
    if form.is_bound:
        form.is_valid()
        content = form.content()
    content = content or CreativeContent()
    media = _media(actor, content.media_id)
    shown, kept = _split_by_apply_to(channels, form)
    previews = _previews(
        campaign,
        shown,
        content,
        media,
        headline_slots=form.headline_slots,
        description_slots=form.description_slots,
    )
    findings = _field_findings(form, channels, content, previews)
    capabilities = [channel.capabilities for channel in channels]
    selected_cta = str(form["call_to_action"].value() or "").upper()
    apply_to = {channel.key for channel in shown}
    return {
        "form": form,
        "channels": channels,
        "previews": previews,
        "kept": kept,
        "modes": [
            (channel.key, PREVIEW_MODES.get(channel.key, (channel.channel.label, ""))[0])
            for channel in channels
        ],
        "field_findings": findings,
        "rows": _field_rows(form, channels, findings),
        "media": media,
        "media_errors": media_errors or form["media_id"].errors,
        "media_types": ",".join(MEDIA_TYPES.values()),
        "call_to_actions": [
            {"value": value, "label": label, "button": _button_label(value)}
            for value, label in CALL_TO_ACTIONS.items()
            if any(value in c.call_to_actions for c in capabilities)
        ],
        "selected_cta": selected_cta,
        "hints": {
            "headlines": [
                _count_hint(
                    c.label, "headline", c.headlines_min, c.headlines_max, c.headline_max_chars
                )
                for c in capabilities
            ],
            "descriptions": [
                _count_hint(
                    c.label,
                    "description",
                    c.descriptions_min,
                    c.descriptions_max,
                    c.description_max_chars,
                )
                for c in capabilities
            ],
        },
        "uses_primary_text": any(c.primary_text_max_chars is not None for c in capabilities),
        "uses_display_path": any(c.display_path_max_parts for c in capabilities),
        "uses_image": any(c.supports_images for c in capabilities),
        "uses_cta": any(c.call_to_actions for c in capabilities),
        "apply_rows": [
            {"channel": channel.channel, "checked": channel.key in apply_to} for channel in channels
        ],
        "remove_media": bool(form["remove_media"].value()),
        "in_wizard": in_wizard,
        "save_url": _step_url(campaign, "creative")
        if in_wizard
        else reverse("web:creative_studio", args=[campaign.pk]),
        "preview_url": reverse("web:creative_preview", args=[campaign.pk]),
        "upload_url": reverse("web:creative_upload", args=[campaign.pk]),
        "studio_url": reverse("web:creative_studio", args=[campaign.pk]),
        "differs": len({_content_key(c.creative) for c in channels if c.creative}) > 1,
    }


def _count_hint(label: str, noun: str, minimum: int, maximum: int, chars: int) -> str:
    """How many texts a platform takes and how long, in words, from its capabilities."""
    if maximum == 1:
        return f"{label} uses the first {noun} and shows {chars} characters of it."
    return f"{label} takes {minimum}–{maximum} {noun}s and shows {chars} characters of each."


def _content_of(creative: AdCreative | None) -> CreativeContent:
    """A stored ad as the studio's content (every entry in its own box)."""
    if creative is None:
        return CreativeContent()
    return CreativeContent(
        destination_url=creative.destination_url,
        headlines=list(creative.headlines),
        descriptions=list(creative.descriptions),
        primary_text=creative.primary_text,
        display_path=list(creative.display_path),
        call_to_action=creative.call_to_action,
        media_id=str(creative.media_id) if creative.media_id else None,
        headline_slots=list(range(len(creative.headlines))),
        description_slots=list(range(len(creative.descriptions))),
    )


def _content_key(creative: AdCreative | None) -> tuple[Any, ...]:
    if creative is None:
        return ()
    content = creative.content()
    content.pop("name", None)
    return tuple(sorted((key, repr(value)) for key, value in content.items()))


def _initial_studio_form(
    request: HttpRequest, channels: list[StudioChannel]
) -> tuple[CreativeForm, CreativeContent]:
    source = _source_channel(channels, request.GET.get("from"))
    stored = source.creative.content() if source and source.creative else {}
    # Save to every channel that shows the same ad (or none yet), so editing one
    # universal ad never silently overwrites a different one.
    source_key = _content_key(source.creative) if source else ()
    apply_to = [
        channel.key
        for channel in channels
        if channel.creative is None or _content_key(channel.creative) == source_key
    ]
    initial = {**CreativeForm.initial_from(stored), "apply_to": apply_to}
    form = _creative_form(channels, initial=initial, stored=stored)
    return form, _content_of(source.creative if source else None)


def _save_creatives(
    actor: Actor, channels: list[StudioChannel], form: CreativeForm
) -> list[AdCreative]:
    content = form.content()
    chosen = set(form.cleaned_data.get("apply_to") or [])
    saved = []
    with transaction.atomic():
        for channel in channels:
            if channel.key not in chosen:
                continue
            if channel.creative is None:
                saved.append(
                    creative_create(
                        actor=actor, unit_id=channel.unit.pk, **content.service_fields()
                    )
                )
            else:
                saved.append(
                    creative_update(
                        actor=actor, creative_id=channel.creative.pk, **content.service_fields()
                    )
                )
    return saved


def _studio(
    request: HttpRequest, actor: Actor, campaign: Campaign, *, in_wizard: bool
) -> HttpResponse:
    channels = _studio_channels(campaign)
    template = "web/builder/creative.html" if in_wizard else "web/builder/studio.html"
    if not channels:
        if in_wizard:
            messages.info(request, "Choose the campaign's channels first.")
            return HttpResponseRedirect(_step_url(campaign, "channels"))
        return render(request, template, {"campaign": campaign, "channels": [], "in_wizard": False})
    content: CreativeContent | None = None
    if request.method == "POST":
        form = _creative_form(channels, data=request.POST)
        if form.is_valid() and request.POST.get("go") != "preview":
            if not form.cleaned_data.get("apply_to"):
                form.add_error("apply_to", "Choose at least one channel to save the ad to.")
            else:
                try:
                    saved = _save_creatives(actor, channels, form)
                except FORM_ERRORS as error:
                    content = form.content()
                    show_errors(form, error, content.field_name, default="apply_to")
                else:
                    messages.success(request, _saved_message(channels, saved))
                    if in_wizard:
                        return _after_save(request, campaign, "creative")
                    return HttpResponseRedirect(reverse("web:creative_studio", args=[campaign.pk]))
    else:
        form, content = _initial_studio_form(request, channels)
    context = _studio_context(actor, campaign, channels, form, in_wizard=in_wizard, content=content)
    if in_wizard:
        return _render_step(request, campaign, "creative", context)
    return render(request, template, {"campaign": campaign, **context})


def _saved_message(channels: list[StudioChannel], saved: list[AdCreative]) -> str:
    labels = {channel.unit.pk: channel.channel.label for channel in channels}
    parts = []
    for creative in saved:
        label = labels.get(creative.unit_id, "ad")
        note = " (the launched version is kept)" if creative.parent_id else ""
        parts.append(f"{label} ad version {creative.version}{note}")
    return "Saved: " + ", ".join(parts) + "."


def _creative_step(request: HttpRequest, actor: Actor, campaign: Campaign) -> HttpResponse:
    return _studio(request, actor, campaign, in_wizard=True)


@member_view(Permission.CAMPAIGN_EDIT)
def creative_studio(request: HttpRequest, campaign_id: str) -> HttpResponse:
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    return _studio(request, actor, campaign, in_wizard=False)


@require_POST
@member_view(Permission.CAMPAIGN_VIEW)
def creative_preview(request: HttpRequest, campaign_id: str) -> HttpResponse:
    """The authoritative preview and findings for what is typed (nothing is saved):
    the preview panel plus out-of-band updates of the findings beside each field."""
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    channels = _studio_channels(campaign)
    form = _creative_form(channels, data=request.POST)
    form.is_valid()
    content = form.content()
    shown, kept = _split_by_apply_to(channels, form)
    previews = _previews(
        campaign,
        shown,
        content,
        _media(actor, content.media_id),
        headline_slots=form.headline_slots,
        description_slots=form.description_slots,
    )
    return render(
        request,
        "web/builder/_studio_preview.html",
        {
            "previews": previews,
            "kept": kept,
            "studio_url": reverse("web:creative_studio", args=[campaign.pk]),
            "field_findings": _field_findings(form, channels, content, previews),
            "oob": True,
        },
    )


@require_POST
@member_view(Permission.CAMPAIGN_EDIT)
def creative_upload(request: HttpRequest, campaign_id: str) -> HttpResponse:
    """Upload an image through ``media_upload``. From htmx (the drop zone): answer the
    image slot and ask the preview to refresh. Without JavaScript: show the studio
    again with what was typed and the new image chosen (nothing else is saved)."""
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    upload = request.FILES.get("file")
    media: MediaAsset | None = None
    errors: list[str] = []
    if upload is None:
        errors.append("Choose an image file first.")
    else:
        try:
            media = media_upload(actor=actor, stream=upload, filename=upload.name or "image")
        except FORM_ERRORS as error:
            errors.extend(problem.message for problem in error.errors or [])
            errors = errors or [error.detail]
    data = request.POST.copy()
    if media is not None:
        data["media_id"] = str(media.pk)
        data.pop("remove_media", None)
    if request.headers.get("HX-Request") == "true":
        shown = media or _media(actor, data.get("media_id"))
        response = render(
            request,
            "web/builder/_media_slot.html",
            {"media": shown, "media_errors": errors},
        )
        if media is not None:
            response["HX-Trigger-After-Swap"] = "studio-refresh"
        return response
    channels = _studio_channels(campaign)
    in_wizard = data.get("in_wizard") == "1"
    form = _creative_form(channels, data=data)
    context = _studio_context(
        actor, campaign, channels, form, in_wizard=in_wizard, media_errors=errors
    )
    if in_wizard:
        return _render_step(request, campaign, "creative", context)
    return render(request, "web/builder/studio.html", {"campaign": campaign, **context})


# ---- 6. Review --------------------------------------------------------------------------


def _step_of_check(path: str) -> str:
    """The builder step where a failed launch check is fixed."""
    parts = path.split(".")
    if parts[0] in ("budget", "start_at", "end_at"):
        return "budget"
    if parts[0] == "units":
        return "audience" if parts[-1] == "audience" else "channels"
    if parts[0] == "channels" and parts[-1] == "ad_account":
        return "channels"
    return "creative"


def _review_step(request: HttpRequest, actor: Actor, campaign: Campaign) -> HttpResponse:
    refusal: DomainError | None = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        services = {
            LifecycleAction.LAUNCH.value: lifecycle.campaign_launch,
            LifecycleAction.SCHEDULE.value: lifecycle.campaign_schedule,
        }
        if action not in services:
            raise Http404("No such action.")
        try:
            campaign = services[action](actor=actor, campaign_id=campaign.pk)
        except FORM_ERRORS as error:
            refusal = error
        else:
            messages.success(request, f"{campaign.get_status_display()}: {campaign.name}.")
            return HttpResponseRedirect(reverse("web:campaign_detail", args=[campaign.pk]))
    return _render_step(request, campaign, "review", _review_context(actor, campaign, refusal))


def _review_context(
    actor: Actor, campaign: Campaign, refusal: DomainError | None
) -> dict[str, Any]:
    zone = ZoneInfo(campaign.time_zone)
    units = _units(campaign)
    budget = CampaignBudget.objects.filter(campaign=campaign).first()
    accounts = {
        link.channel: link.ad_account
        for link in CampaignAdAccount.objects.filter(campaign=campaign).select_related("ad_account")
    }
    channels = _studio_channels(campaign)
    previews = []
    for channel in channels:
        if channel.creative is None:
            continue
        content = _content_of(channel.creative)
        previews.extend(
            _previews(
                campaign,
                [channel],
                content,
                channel.creative.media,
                headline_slots=len(content.headlines),
                description_slots=len(content.descriptions),
            )
        )

    def checks(errors: list[FieldError]) -> list[dict[str, str]]:
        return [
            {
                "message": error.message,
                "field": error.field,
                "url": _step_url(campaign, _step_of_check(error.field)),
                "step": dict(STEPS)[_step_of_check(error.field)],
            }
            for error in errors
        ]

    launch_checks = lifecycle.campaign_launch_checks(
        campaign, now=timezone.now(), include_accounts=True
    )
    allowed = allowed_actions(campaign.status)
    actions = [
        action
        for action in (LifecycleAction.LAUNCH.value, LifecycleAction.SCHEDULE.value)
        if action in allowed
    ]
    return {
        "start_local": timezone.localtime(campaign.start_at, zone) if campaign.start_at else None,
        "end_local": timezone.localtime(campaign.end_at, zone) if campaign.end_at else None,
        "budget": budget,
        "budget_amount": quantize_amount(budget.amount, budget.currency) if budget else None,
        "allocations": [
            (
                get_channel(allocation.channel).label,
                quantize_amount(allocation.amount, budget.currency),
            )
            for allocation in budget.allocations.all()
        ]
        if budget
        else [],
        "unit_rows": [
            {
                "unit": unit,
                "channel": get_channel(unit.channel),
                "account": accounts.get(unit.channel),
                "audience": _audience_label(unit.audience) if unit.audience else "",
            }
            for unit in units
        ],
        "previews": previews,
        "channels_without_ad": [c.channel for c in channels if c.creative is None],
        "checks": checks(launch_checks),
        "refusal": refusal,
        "refusal_checks": checks(refusal.errors) if refusal else [],
        "actions": actions,
        "can_operate": actor.can(Permission.CAMPAIGN_OPERATE),
        "studio_url": reverse("web:creative_studio", args=[campaign.pk]),
    }
