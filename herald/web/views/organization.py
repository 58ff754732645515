"""Organization-wide views: the organization switcher."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from herald.accounts.models import Membership
from herald.core.api import ACTIVE_ORGANIZATION_SESSION_KEY


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
