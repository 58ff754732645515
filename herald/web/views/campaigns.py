"""Campaign pages: the list, the campaign page, its actions and account choice."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from herald.accounts.choices import Permission
from herald.campaigns import selectors
from herald.campaigns.channels import get_channel
from herald.campaigns.choices import CampaignStatus
from herald.campaigns.lifecycle import allowed_actions
from herald.campaigns.models import AdCreative, CampaignBudget, CampaignUnit
from herald.campaigns.services import lifecycle
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.errors import DomainError, InvalidInput, NotFound
from herald.integrations.models import AdAccount, CampaignAdAccount
from herald.integrations.providers import PROVIDERS
from herald.integrations.services.accounts import campaign_ad_account_set
from herald.web.access import actor_of, member_view


@member_view(Permission.CAMPAIGN_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        campaigns = selectors.campaign_list(
            organization=actor.organization,
            status=request.GET.get("status") or None,
            search=request.GET.get("q") or None,
        )
    except InvalidInput as error:
        messages.error(request, error.detail)
        campaigns = selectors.campaign_list(organization=actor.organization)
    page = Paginator(campaigns, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "web/home.html",
        {
            "page": page,
            "status": request.GET.get("status", ""),
            "q": request.GET.get("q", ""),
            "status_choices": CampaignStatus.choices,
        },
    )


@member_view(Permission.CAMPAIGN_VIEW)
def campaign_detail(request: HttpRequest, campaign_id: str) -> HttpResponse:
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    units = list(CampaignUnit.objects.filter(campaign=campaign).select_related("audience"))
    creatives = AdCreative.objects.filter(unit__campaign=campaign, is_current=True).select_related(
        "media"
    )
    creatives_by_unit: dict[object, list[AdCreative]] = {}
    for creative in creatives:
        creatives_by_unit.setdefault(creative.unit_id, []).append(creative)
    return render(
        request,
        "web/campaign_detail.html",
        {
            "campaign": campaign,
            "budget": CampaignBudget.objects.filter(campaign=campaign).first(),
            "units": [(unit, creatives_by_unit.get(unit.pk, [])) for unit in units],
            "log": selectors.campaign_log(campaign=campaign)[:50],
            "actions": allowed_actions(campaign.status),
            "paid_channels": [
                {
                    "key": key,
                    "label": get_channel(key).label,
                    "chosen": CampaignAdAccount.objects.filter(campaign=campaign, channel=key)
                    .values_list("ad_account_id", flat=True)
                    .first(),
                    "accounts": AdAccount.objects.for_org(actor.organization).filter(
                        provider=key, status=AdAccount.Status.ACTIVE
                    ),
                }
                for key in sorted({unit.channel for unit in units})
                if key in PROVIDERS
            ],
        },
    )


@require_POST
@member_view(Permission.CAMPAIGN_OPERATE)
def campaign_action(request: HttpRequest, campaign_id: str, action: str) -> HttpResponse:
    """Run a lifecycle action from the campaign page, through the same services as the
    API; a refusal is shown with its reasons."""
    actor = actor_of(request)
    services = {
        "schedule": lifecycle.campaign_schedule,
        "launch": lifecycle.campaign_launch,
        "resume": lifecycle.campaign_resume,
        "complete": lifecycle.campaign_complete,
        "retry": lifecycle.campaign_retry,
    }
    try:
        if action == "pause":
            lifecycle.campaign_pause(
                actor=actor, campaign_id=campaign_id, reason=request.POST.get("reason", "")
            )
        elif action == "cancel":
            lifecycle.campaign_cancel(
                actor=actor, campaign_id=campaign_id, reason=request.POST.get("reason", "")
            )
        elif action in services:
            services[action](actor=actor, campaign_id=campaign_id)
        else:
            raise Http404("No such action.")
    except DomainError as error:
        if isinstance(error, NotFound):
            raise Http404(error.detail) from error
        details = " ".join(e.message for e in error.errors)
        messages.error(request, f"{error.detail} {details}".strip())
    else:
        messages.success(request, f"{action.capitalize()}: done.")
    return HttpResponseRedirect(reverse("web:campaign_detail", args=[campaign_id]))


@require_POST
@member_view(Permission.CAMPAIGN_EDIT)
def campaign_accounts(request: HttpRequest, campaign_id: str) -> HttpResponse:
    actor = actor_of(request)
    try:
        for key in PROVIDERS:
            if key in request.POST:
                campaign_ad_account_set(
                    actor=actor,
                    campaign_id=campaign_id,
                    channel=key,
                    ad_account_id=request.POST[key] or None,
                )
    except DomainError as error:
        if isinstance(error, NotFound):
            raise Http404(error.detail) from error
        details = " ".join(e.message for e in error.errors)
        messages.error(request, f"{error.detail} {details}".strip())
    else:
        messages.success(request, "Ad accounts saved.")
    return HttpResponseRedirect(reverse("web:campaign_detail", args=[campaign_id]))
