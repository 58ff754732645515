"""The Connections page: connect, reconnect, sync and disconnect ad platforms."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from herald.accounts.choices import Permission
from herald.campaigns.channels import get_channel
from herald.core.errors import DomainError
from herald.integrations import selectors as integration_selectors
from herald.integrations.providers import PROVIDERS
from herald.integrations.services.accounts import ad_accounts_sync
from herald.integrations.services.connections import (
    connection_disconnect,
    connection_get_for_actor,
    connection_start,
)
from herald.web.access import actor_of, member_view


@member_view(Permission.INTEGRATION_VIEW)
def connections(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":
        actor.require(Permission.INTEGRATION_MANAGE)
        if not request.session.session_key:
            request.session.save()
        try:
            url = connection_start(
                actor=actor,
                provider=request.POST.get("provider", ""),
                sandbox=request.POST.get("sandbox") == "1",
                session_key=request.session.session_key,
                reconnect_id=request.POST.get("reconnect_id") or None,
            )
        except DomainError as error:
            messages.error(request, error.detail)
            return HttpResponseRedirect(reverse("web:connections"))
        return HttpResponseRedirect(url)
    return render(
        request,
        "web/connections.html",
        {
            "connections": integration_selectors.connection_list(organization=actor.organization),
            "accounts": integration_selectors.ad_account_list(organization=actor.organization),
            "runs": integration_selectors.sync_run_list(organization=actor.organization)[:10],
            "providers": [get_channel(key) for key in PROVIDERS],
            "sandbox_enabled": settings.HERALD_SANDBOX_ENABLED,
            "can_manage": actor.can(Permission.INTEGRATION_MANAGE),
        },
    )


@require_POST
@member_view(Permission.INTEGRATION_MANAGE)
def connection_action(request: HttpRequest, connection_id: str, action: str) -> HttpResponse:
    actor = actor_of(request)
    connection = connection_get_for_actor(actor=actor, connection_id=connection_id)
    if action == "disconnect":
        connection_disconnect(actor=actor, connection_id=connection.pk)
        messages.success(request, "Disconnected; Herald's access was revoked.")
    elif action == "sync":
        run = ad_accounts_sync(connection=connection)
        if run.status == run.Status.SUCCEEDED:
            messages.success(request, f"Synced: {run.rows} ad account(s).")
        else:
            messages.error(request, f"Sync failed: {run.error}")
    else:
        raise Http404("No such action.")
    return HttpResponseRedirect(reverse("web:connections"))
