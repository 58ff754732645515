"""Server-rendered pages. They read through selectors and write through services,
exactly like the API."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from herald.accounts.choices import Permission
from herald.accounts.models import Membership
from herald.campaigns import selectors
from herald.campaigns.choices import CampaignStatus
from herald.campaigns.lifecycle import allowed_actions
from herald.campaigns.models import AdCreative, CampaignBudget, CampaignUnit
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.api import ACTIVE_ORGANIZATION_SESSION_KEY
from herald.core.errors import InvalidInput
from herald.web.access import actor_of, member_view

__all__ = ["campaign_detail", "home", "switch_organization"]


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
        },
    )


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    organization_id = request.POST.get("organization_id", "")
    user_id = cast(int, request.user.pk)  # login_required: a real user
    member = Membership.objects.filter(user_id=user_id, organization_id=organization_id)
    if member.exists():
        request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = organization_id
    else:
        messages.error(request, "You are not a member of that organization.")
    return HttpResponseRedirect(reverse("web:home"))
